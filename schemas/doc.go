// Package schemas embeds irflow's JSON Schemas (2020-12): the playbook
// language, the execution input and the task payload. They are published
// files first (editors and other tools read them) and Go values second.
package schemas
