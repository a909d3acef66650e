// Package handler is the logic of the capture-memory action.
//
// Memory is the most volatile evidence of an EC2 container instance and the
// first thing a stop or a scale-in destroys, so playbooks run this before
// any containment that touches the host. The action is asynchronous: mode
// start sends a script with SSM Run Command (tasks/hostcmd) and returns at
// once; mode check, called from the generated Wait/Choice loop, reads the
// command's outcome.
//
// The script downloads AVML and refuses to run it unless its SHA-256 equals
// the pinned hash (with.avmlSha256, else IRFLOW_AVML_SHA256); without a
// pinned hash the action fails before anything is sent. AVML writes the
// image (snappy-compressed with compress: true, the default) under
// /var/lib/irflow on the host, which must have the room; the script then
// uploads it in parts of 4 GiB to presigned PUT URLs (a single PUT takes at
// most 5 GB), hashing each part and the whole image on the host, and deletes
// it. The result lists the parts as evidence and the whole image's SHA-256
// and size in outputs.image: `cat memory.lime*.part* > image` restores it.
package handler
