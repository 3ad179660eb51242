package simulator

import (
	"cmp"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/recallhq/recall/msgid"
)

// Answers beyond a message's status, for tests of what a client does with
// answers the real API gives rarely, or that something in front of it
// gives. SetAnswer and AddAnswer take them as text, as clickatell-sim's
// -status file does:
//
//	001 … 014   the message has that status (011: scheduled, stoppable)
//	stuck       scheduled, and every stop answers 200 with 011 without
//	            taking (the stop did not take)
//	stuck:N     the first N stops answer 011, later ones cancel (006)
//	NNN         any other three-digit status (015, 999): 200 with that
//	            messageStatus, which is not in Clickatell's table
//	404:161     404 with Clickatell's error 161 (as for an unknown ID);
//	404:103     likewise with error 103, 404:104 with error 104
//	404:empty   404 with an empty body
//	404:html    404 with a web server's HTML page
//	404:text    404 with a plain-text page ("404 page not found")
//	404:gateway 404 with a gateway's own JSON, {"error":{"code":"404"}}
//	404:nocode  404 with an error that has no code
//	404:data    404 with a data body (status 001)
//
// A status read (GET) of a stuck message answers 011; the 404 and NNN
// answers are given to GET and DELETE alike.
const answerSyntax = "a status 001 to 014, stuck, stuck:N, another three-digit status (015), or 404:161, 404:103, 404:104, 404:empty, 404:html, 404:text, 404:gateway, 404:nocode, 404:data"

type specialKind uint8

const (
	spStuck  specialKind = iota + 1 // 011 for the next left stops
	spStatus                        // 200 with a status not in the table
	sp404                           // 404 with body
)

// special is an answer SetAnswer gave one ID.
type special struct {
	kind specialKind
	spec string
	// left is how many more stops answer 011 (spStuck); < 0: all.
	left atomic.Int64
	// code is the messageStatus of spStatus.
	code string
	// body and ct are the answer per format (spStatus, sp404); a nil ct
	// sends no Content-Type.
	body [2][]byte
	ct   [2][]string
}

// parseAnswer reads an answer; a plain documented status comes back as
// its store status and a nil special.
func parseAnswer(spec string, id msgid.ID) (uint8, *special, error) {
	if st, ok := parseStatus(spec); ok {
		return st, nil, nil
	}
	sp := &special{spec: spec}
	idText := id.String()
	switch {
	case spec == "stuck":
		sp.kind = spStuck
		sp.left.Store(-1)
		return stScheduled, sp, nil
	case strings.HasPrefix(spec, "stuck:"):
		n, err := strconv.ParseInt(spec[len("stuck:"):], 10, 32)
		if err != nil || n < 0 {
			return 0, nil, &AnswerError{Answer: spec, Want: "stuck:N with N a whole number ≥ 0"}
		}
		sp.kind = spStuck
		sp.left.Store(n)
		return stScheduled, sp, nil
	case len(spec) == 3 && isDigits(spec):
		sp.kind, sp.code = spStatus, spec
		desc := "Status " + spec + " (not in Clickatell's table)"
		sp.body[formatJSON] = []byte(`{"data":{"messageStatus":"` + spec + `","description":"` + desc + `","apiMessageId":"` + idText + "\"}}\n")
		sp.body[formatXML] = []byte(xmlHeader + "<response>\n    <data>\n        <messageStatus>" + spec + "</messageStatus>\n        <description>" +
			desc + "</description>\n        <apiMessageId>" + idText + "</apiMessageId>\n    </data>\n</response>\n")
		sp.ct = contentType
		return stUnknown, sp, nil
	case strings.HasPrefix(spec, "404:"):
		sp.kind = sp404
		both := func(ct string, body string) {
			for f := range sp.body {
				sp.body[f] = []byte(body)
				if ct != "" {
					sp.ct[f] = []string{ct}
				}
			}
		}
		switch spec[len("404:"):] {
		case "161":
			sp.body, sp.ct = errNoResource.body, contentType
		case "103":
			sp.body, sp.ct = newErr("103", "Unknown API message ID", true).body, contentType
		case "104":
			sp.body, sp.ct = newErr("104", "Unknown client message ID", true).body, contentType
		case "empty":
		case "html":
			both("text/html", "<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n")
		case "text":
			both("text/plain; charset=utf-8", "404 page not found\n")
		case "gateway":
			both("application/json", `{"error":{"code":"404"}}`+"\n")
		case "nocode":
			sp.body[formatJSON] = []byte(`{"error":{"description":"Invalid or missing parameter: apiMessageId"}}` + "\n")
			sp.body[formatXML] = []byte(xmlHeader + "<response>\n    <error>\n        <description>Invalid or missing parameter: apiMessageId</description>\n    </error>\n</response>\n")
			sp.ct = contentType
		case "data":
			a := &dataAnswers[formatJSON][1]
			sp.body[formatJSON] = append(append(append([]byte{}, a.pre...), idText...), a.post...)
			a = &dataAnswers[formatXML][1]
			sp.body[formatXML] = append(append(append([]byte{}, a.pre...), idText...), a.post...)
			sp.ct = contentType
		default:
			return 0, nil, &AnswerError{Answer: spec, Unknown: true, Want: answerSyntax}
		}
		return stUnknown, sp, nil
	}
	return 0, nil, &AnswerError{Answer: spec, Unknown: true, Want: answerSyntax}
}

// AnswerError is an answer (Simulator.AddAnswer) the simulator does not
// know or cannot read.
type AnswerError struct {
	Answer  string // the answer as given
	Kind    string // what it was read as: "" for an answer, "message status"
	Unknown bool   // not an answer at all, rather than one with a bad argument
	Want    string // what is accepted
}

func (e *AnswerError) Error() string { return "simulator: " + e.Reason() }

// Reason is the error's text without the package's prefix, for a caller
// that says where the answer came from instead.
func (e *AnswerError) Reason() string {
	kind := cmp.Or(e.Kind, "answer")
	if e.Unknown {
		return fmt.Sprintf("unknown %s %q: want %s", kind, e.Answer, e.Want)
	}
	return fmt.Sprintf("%s %q: want %s", kind, e.Answer, e.Want)
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// SetAnswer gives id an answer (see the list above), whatever it had.
func (s *Simulator) SetAnswer(id msgid.ID, answer string) error {
	st, sp, err := parseAnswer(answer, id)
	if err != nil {
		return err
	}
	s.setSpecial(id, sp)
	s.store.set(id, st)
	return nil
}

// AddAnswer lists id with an answer, as clickatell-sim's -status file
// does. Like AddStatus, it reports false when id was already listed with
// that answer, and a *ConflictError when it was listed with another.
func (s *Simulator) AddAnswer(id msgid.ID, answer string) (bool, error) {
	st, sp, err := parseAnswer(answer, id)
	if err != nil {
		return false, err
	}
	if old := s.specialOf(id); old != nil {
		if old.spec == answer {
			return false, nil
		}
		return false, &ConflictError{ID: id, Listed: old.spec, Want: answer}
	}
	if sp == nil {
		return s.AddStatus(id, answer)
	}
	if prev, _ := s.store.get(id); prev != stUnknown {
		return false, &ConflictError{ID: id, Listed: statusCode(prev), Want: answer}
	}
	s.setSpecial(id, sp)
	s.store.set(id, st)
	return true, nil
}

func (s *Simulator) setSpecial(id msgid.ID, sp *special) {
	if sp == nil {
		s.specials.Delete(id)
		return
	}
	s.specials.Store(id, sp)
	s.hasSpecials.Store(true)
}

func (s *Simulator) specialOf(id msgid.ID) *special {
	if !s.hasSpecials.Load() {
		return nil
	}
	v, ok := s.specials.Load(id)
	if !ok {
		return nil
	}
	return v.(*special)
}

// serveSpecial answers a call for an ID with a special answer, and
// reports false when the answer is the ordinary one after all (a stuck
// message whose 011 answers have run out, or a status read of one).
func (s *Simulator) serveSpecial(w http.ResponseWriter, f format, isDelete, count bool, id msgid.ID, sp *special) bool {
	switch sp.kind {
	case spStuck:
		if !isDelete {
			return false
		}
		for {
			n := sp.left.Load()
			if n == 0 {
				return false
			}
			if n < 0 || sp.left.CompareAndSwap(n, n-1) {
				break
			}
		}
		s.store.count(id)
		s.notStopped.Add(1)
		s.writeData(w, f, stScheduled, id)
		return true
	case spStatus:
		if isDelete {
			s.notStopped.Add(1)
		} else {
			s.lookups.Add(1)
		}
		if count {
			s.store.count(id)
		}
		s.writeSpecial(w, f, http.StatusOK, sp)
		return true
	case sp404:
		if count {
			s.store.count(id)
		}
		s.notFound.Add(1)
		s.writeSpecial(w, f, http.StatusNotFound, sp)
		return true
	}
	return false
}

func (s *Simulator) writeSpecial(w http.ResponseWriter, f format, status int, sp *special) {
	if sp.ct[f] != nil {
		w.Header()["Content-Type"] = sp.ct[f]
	}
	w.WriteHeader(status)
	_, _ = w.Write(sp.body[f])
}

// answerStatus is the status a call for id would find with its special
// answer, if it has one: the code and true for a status answer, "" and
// true for a 404 answer; ok false when id has no special answer, or one
// (stuck) whose status the store holds.
func (s *Simulator) answerStatus(id msgid.ID) (code string, found, ok bool) {
	sp := s.specialOf(id)
	if sp == nil {
		return "", false, false
	}
	switch sp.kind {
	case spStatus:
		return sp.code, true, true
	case sp404:
		return "", false, true
	}
	return "", false, false
}
