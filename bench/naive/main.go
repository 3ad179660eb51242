// Command naive is the floor recall's plan is measured against: the program
// anyone would write in an afternoon with the standard library alone. It
// decodes the state file with encoding/json into a map, reads the manifest's
// IDs line by line with bufio, and counts the IDs not in the state.
//
//	naive STATE IDS...
//
// Each IDS file is either an ids_from file (one ID a line, # comments) or a
// manifest with the IDs inline under `ids:`: lines of the form "- <id>" are
// taken as IDs and every other line is skipped. It validates nothing a real
// manifest parser must (keys, positions, duplicates, escaping paths), so it
// is a floor, not a competitor.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"strings"
)

type record struct {
	Outcome     string `json:"outcome"`
	Status      string `json:"status"`
	Description string `json:"description"`
	Group       string `json:"group"`
	At          string `json:"at"`
}

type stateFile struct {
	FormatVersion int               `json:"format_version"`
	Lineage       string            `json:"lineage"`
	Serial        uint64            `json:"serial"`
	Messages      map[string]record `json:"messages"`
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: naive STATE IDS...")
		os.Exit(2)
	}
	n, err := run(os.Args[1], os.Args[2:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "naive:", err)
		os.Exit(1)
	}
	fmt.Println(n)
}

func run(statePath string, idFiles []string) (int, error) {
	f, err := os.Open(statePath)
	if err != nil {
		return 0, err
	}
	var st stateFile
	err = json.NewDecoder(bufio.NewReader(f)).Decode(&st)
	f.Close()
	if err != nil {
		return 0, fmt.Errorf("%s: %w", statePath, err)
	}
	toCancel := 0
	for _, path := range idFiles {
		f, err := os.Open(path)
		if err != nil {
			return 0, err
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			line = strings.TrimSpace(strings.TrimPrefix(line, "- "))
			if len(line) != 32 || strings.HasPrefix(line, "#") {
				continue
			}
			if _, ok := st.Messages[strings.ToLower(line)]; !ok {
				toCancel++
			}
		}
		err = sc.Err()
		f.Close()
		if err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
	}
	return toCancel, nil
}
