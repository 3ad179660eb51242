package simulator

import (
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/recallhq/recall/msgid"
)

// format is an answer's media type.
type format uint8

const (
	formatJSON format = iota
	formatXML
)

var contentType = [2][]string{
	formatJSON: {"application/json"},
	formatXML:  {"application/xml"},
}

// negotiate picks the answer format from the Accept header: JSON when it is
// missing or allows anything (*/* or application/*), XML for
// application/xml or text/xml, the highest q value winning and a named type
// beating a wildcard. It reports false when nothing acceptable is offered,
// which is error 166; that answer itself is JSON.
func negotiate(vals []string) (format, bool) {
	switch len(vals) {
	case 0:
		return formatJSON, true
	case 1:
		switch vals[0] {
		case "application/json", "*/*", "":
			return formatJSON, true
		case "application/xml":
			return formatXML, true
		}
	}
	best, bestQ, bestExact := formatJSON, -1.0, false
	for _, v := range vals {
		for part := range strings.SplitSeq(v, ",") {
			media, params, _ := strings.Cut(part, ";")
			media = strings.ToLower(strings.TrimSpace(media))
			q := 1.0
			for p := range strings.SplitSeq(params, ";") {
				k, val, ok := strings.Cut(strings.TrimSpace(p), "=")
				if ok && strings.EqualFold(strings.TrimSpace(k), "q") {
					f, err := strconv.ParseFloat(strings.TrimSpace(val), 64)
					if err != nil || f < 0 || f > 1 {
						f = 0
					}
					q = f
				}
			}
			var f format
			exact := true
			switch media {
			case "application/json":
				f = formatJSON
			case "application/xml", "text/xml":
				f = formatXML
			case "*/*", "application/*":
				f, exact = formatJSON, false
			case "text/*":
				f, exact = formatXML, false
			default:
				continue
			}
			if q <= 0 {
				continue
			}
			if q > bestQ || (q == bestQ && exact && !bestExact) {
				best, bestQ, bestExact = f, q, exact
			}
		}
	}
	if bestQ < 0 {
		return formatJSON, false
	}
	return best, true
}

// errAnswer is an error answer, prebuilt in both formats.
type errAnswer struct {
	code, description string
	body              [2][]byte
}

// documentationURL is where Clickatell's error answers point.
const documentationURL = "http://www.clickatell.com/help/apidocs/error/"

func newErr(code, description string, documented bool) *errAnswer {
	e := &errAnswer{code: code, description: description}
	doc := ""
	if documented {
		doc = documentationURL + code + ".htm"
	}
	j := `{"error":{"code":"` + code + `","description":"` + description + `"`
	if doc != "" {
		j += `,"documentation":"` + doc + `"`
	}
	e.body[formatJSON] = []byte(j + "}}\n")
	x := xmlHeader + "<response>\n    <error>\n        <code>" + code + "</code>\n        <description>" + description + "</description>\n"
	if doc != "" {
		x += "        <documentation>" + doc + "</documentation>\n"
	}
	e.body[formatXML] = []byte(x + "    </error>\n</response>\n")
	return e
}

const xmlHeader = "<?xml version=\"1.0\"?>\n"

// The error answers the simulator gives. Clickatell documents no error code
// for throttling; the 429 answer carries code "429" and no documentation
// link, so that a client keys on the HTTP status, as it must for the real
// API.
var (
	errAuth       = newErr("001", "Authentication failed", true)
	errMissingID  = newErr("109", "Missing message ID", true)
	errMethod     = newErr("160", "HTTP method not supported on this resource", true)
	errNoResource = newErr("161", "Resource does not exist", true)
	errVersion    = newErr("165", "Invalid or no version header", true)
	errAccept     = newErr("166", "Invalid accept header", true)
	errInternal   = newErr("901", "Internal error, please retry", true)
	errTooMany    = newErr("429", "Too many requests", false)
)

// dataAnswer is a data answer for one status, split around the ID.
type dataAnswer struct {
	pre, post []byte
}

var dataAnswers [2][stMax + 1]dataAnswer

func init() {
	for st := uint8(1); st <= stMax; st++ {
		code, desc := statusCode(st), statusText[st]
		dataAnswers[formatJSON][st] = dataAnswer{
			pre:  []byte(`{"data":{"messageStatus":"` + code + `","description":"` + desc + `","apiMessageId":"`),
			post: []byte("\"}}\n"),
		}
		dataAnswers[formatXML][st] = dataAnswer{
			pre: []byte(xmlHeader + "<response>\n    <data>\n        <messageStatus>" + code +
				"</messageStatus>\n        <description>" + desc + "</description>\n        <apiMessageId>"),
			post: []byte("</apiMessageId>\n    </data>\n</response>\n"),
		}
	}
}

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 512); return &b }}

func (s *Simulator) writeConst(w http.ResponseWriter, f format, status int, e *errAnswer) {
	w.Header()["Content-Type"] = contentType[f]
	w.WriteHeader(status)
	_, _ = w.Write(e.body[f])
}

// writeData answers 200 with a message's status. The ID is echoed in its
// canonical lower-case form, whatever case the request used.
func (s *Simulator) writeData(w http.ResponseWriter, f format, st uint8, id msgid.ID) {
	a := &dataAnswers[f][st]
	bp := bufPool.Get().(*[]byte)
	b := append((*bp)[:0], a.pre...)
	b, _ = id.AppendText(b)
	b = append(b, a.post...)
	w.Header()["Content-Type"] = contentType[f]
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(b)
	*bp = b
	bufPool.Put(bp)
}
