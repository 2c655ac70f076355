// Checks our checkpoints and proofs with Go's golang.org/x/mod/sumdb/note and
// sumdb/tlog, an implementation of the same formats that we did not write.
// Input (stdin, JSON): {"vkeys": [...], "note": "...", "inclusion": [...], "consistency": [...]}.
package main

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type inclusion struct {
	Index int64    `json:"index"`
	Entry string   `json:"entry_b64"`
	Proof []string `json:"proof"`
}

type consistency struct {
	Old     int64    `json:"old"`
	OldRoot string   `json:"old_root"`
	Proof   []string `json:"proof"`
}

type input struct {
	Vkeys       []string      `json:"vkeys"`
	Note        string        `json:"note"`
	Inclusion   []inclusion   `json:"inclusion"`
	Consistency []consistency `json:"consistency"`
}

func fail(format string, args ...any) {
	fmt.Printf("FAIL "+format+"\n", args...)
	os.Exit(1)
}

func hash(b64 string) tlog.Hash {
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != tlog.HashSize {
		fail("bad hash %q", b64)
	}
	var h tlog.Hash
	copy(h[:], raw)
	return h
}

func hashes(list []string) []tlog.Hash {
	out := make([]tlog.Hash, len(list))
	for i, s := range list {
		out[i] = hash(s)
	}
	return out
}

func main() {
	var in input
	if err := json.NewDecoder(os.Stdin).Decode(&in); err != nil {
		fail("input: %v", err)
	}
	var verifiers []note.Verifier
	for _, vkey := range in.Vkeys {
		v, err := note.NewVerifier(vkey)
		if err != nil {
			fail("vkey %q: %v", vkey, err)
		}
		verifiers = append(verifiers, v)
	}
	n, err := note.Open([]byte(in.Note), note.VerifierList(verifiers...))
	if err != nil {
		fail("note.Open: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 4 || lines[3] != "" {
		fail("checkpoint text has %d lines", len(lines))
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint size: %v", err)
	}
	root := hash(lines[2])
	fmt.Printf("ok note %s size %d signed by %d key(s)\n", lines[0], size, len(n.Sigs))
	for _, c := range in.Inclusion {
		entry, err := base64.StdEncoding.DecodeString(c.Entry)
		if err != nil {
			fail("entry: %v", err)
		}
		if err := tlog.CheckRecord(hashes(c.Proof), size, root, c.Index, tlog.RecordHash(entry)); err != nil {
			fail("inclusion of %d in %d: %v", c.Index, size, err)
		}
	}
	fmt.Printf("ok %d inclusion proofs\n", len(in.Inclusion))
	for _, c := range in.Consistency {
		if err := tlog.CheckTree(hashes(c.Proof), size, root, c.Old, hash(c.OldRoot)); err != nil {
			fail("consistency %d -> %d: %v", c.Old, size, err)
		}
	}
	fmt.Printf("ok %d consistency proofs\n", len(in.Consistency))
}
