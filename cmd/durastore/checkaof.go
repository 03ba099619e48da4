package main

// durastore check-aof: the redis-check-aof of durastore's namespace files.
//
//	durastore check-aof FILE|DIR [--fix]
//
// It reports whether each file is whole, ends in the middle of a record (a
// write cut by a crash) or is damaged, with the offset and what is wrong.
// With --fix it cuts the file after its last whole record before the
// problem, as redis-check-aof --fix does, after saving the bytes it removes
// to FILE.cut-<unix time>. Given a directory, it checks every ns-*.aof file
// in it. The exit status is 0 when every file is whole (or was fixed), 1
// otherwise, 2 on a usage or I/O error.

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"durastore/engine"
)

func checkAOFUsage(w io.Writer) {
	fmt.Fprint(w, `Usage: durastore check-aof FILE|DIR [--fix]

Checks durastore's append-only files (the ns-*.aof files of the data
directory). A file that ends in the middle of a record, or that is damaged,
is reported with the offset of the problem; --fix cuts it after its last
whole record before the problem, saving the removed bytes to FILE.cut-<time>.
`)
}

func checkAOF(args []string, stdout, stderr io.Writer) int {
	fix := false
	var target string
	for _, a := range args {
		switch a {
		case "--fix":
			fix = true
		case "-h", "--help":
			checkAOFUsage(stdout)
			return 0
		default:
			if target != "" || (len(a) > 0 && a[0] == '-') {
				checkAOFUsage(stderr)
				return 2
			}
			target = a
		}
	}
	if target == "" {
		checkAOFUsage(stderr)
		return 2
	}
	files := []string{target}
	if st, err := os.Stat(target); err != nil {
		fmt.Fprintf(stderr, "durastore check-aof: %v\n", err)
		return 2
	} else if st.IsDir() {
		files, _ = filepath.Glob(filepath.Join(target, "ns-*.aof"))
		sort.Strings(files)
		if len(files) == 0 {
			fmt.Fprintf(stderr, "durastore check-aof: no ns-*.aof files in %s\n", target)
			return 2
		}
	}
	status := 0
	for _, f := range files {
		rep, err := engine.CheckFile(f)
		if err != nil {
			fmt.Fprintf(stderr, "durastore check-aof: %v\n", err)
			return 2
		}
		fmt.Fprintln(stdout, rep.String())
		if rep.Status == engine.FileOK {
			continue
		}
		if !fix {
			fmt.Fprintf(stdout, "%s: not valid; --fix cuts it at offset %d, removing %d bytes (%d whole records after the problem are lost)\n",
				f, rep.ValidEnd, rep.Lost(), rep.After)
			status = 1
			continue
		}
		saved, err := engine.RepairFile(rep)
		if err != nil {
			fmt.Fprintf(stderr, "durastore check-aof: fixing %s: %v\n", f, err)
			return 2
		}
		fmt.Fprintf(stdout, "%s: fixed: cut from %d to %d bytes; the %d bytes removed are in %s\n",
			f, rep.Size, rep.ValidEnd, rep.Lost(), saved)
	}
	return status
}
