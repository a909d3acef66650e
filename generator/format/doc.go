// Package format writes playbooks and playbook tests in irflow's canonical
// form (irflow fmt): keys in the order the language documents them (the
// order of the base schema's properties, of each action's parameters, of a
// test file's keys), two-space indentation, comments kept, folded text
// wrapped at 80 columns. Formatting never changes what a file means: the
// value it decodes to is the same before and after.
package format
