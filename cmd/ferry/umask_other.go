//go:build !unix

package main

// ownerOnlyFiles and userFiles do nothing where there is no umask: files
// take their folder's permissions.
func ownerOnlyFiles() {}

func userFiles() {}
