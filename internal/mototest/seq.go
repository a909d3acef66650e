package mototest

import "sync/atomic"

var seq atomic.Int64
