package clickatell

import "bytes"

// Fast paths for the answers the API gives almost every time: a JSON or
// XML document holding one "data" or "error" object of plain strings.
// They read it without reflection and with no allocation beyond the
// strings kept, and give up (ok false) at the first thing outside that
// narrow shape (escapes, entities, numbers, attributes, comments,
// duplicates, non-ASCII, …), which the full decoders then read. Where they
// do answer, they answer exactly as the full decoders would: FuzzFastDecode
// checks that.

// fastJSON reads {"data":{…}} or {"error":{…}}.
func fastJSON(b []byte, a *answer) (ok bool) {
	p := jsonScanner{scanner{b: b}}
	if !p.byte('{') {
		return false
	}
	seen := 0
	for first := true; ; first = false {
		if p.byte('}') {
			break
		}
		if !first && !p.byte(',') {
			return false
		}
		key, ok := p.str()
		if !ok || !p.byte(':') {
			return false
		}
		switch string(key) {
		case "data":
			if seen&1 != 0 || !p.object(a, true) {
				return false
			}
			seen |= 1
			a.hasData = true
		case "error":
			if seen&2 != 0 || !p.object(a, false) {
				return false
			}
			seen |= 2
			a.hasError = true
		default:
			return false
		}
	}
	p.ws()
	return p.i == len(p.b)
}

// scanner is a position in a document, for both fast paths.
type scanner struct {
	b []byte
	i int
}

// ws skips white space (the same four bytes in JSON and XML).
func (p *scanner) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		default:
			return
		}
	}
}

type jsonScanner struct{ scanner }

// byte skips white space and c, reporting whether c was there.
func (p *jsonScanner) byte(c byte) bool {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// str reads a string of printable ASCII without escapes.
func (p *jsonScanner) str() ([]byte, bool) {
	if !p.byte('"') {
		return nil, false
	}
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		switch {
		case c == '"':
			p.i++
			return p.b[start : p.i-1], true
		case c == '\\' || c < 0x20 || c >= 0x7f:
			return nil, false
		}
		p.i++
	}
	return nil, false
}

// object reads an object of string members into a.
func (p *jsonScanner) object(a *answer, data bool) bool {
	if !p.byte('{') {
		return false
	}
	seen := 0
	for first := true; ; first = false {
		if p.byte('}') {
			return true
		}
		if !first && !p.byte(',') {
			return false
		}
		key, ok := p.str()
		if !ok || !p.byte(':') {
			return false
		}
		val, ok := p.str()
		if !ok {
			return false
		}
		field, bit := a.field(key, data)
		if field == nil {
			// Another member (documentation, charge): only an exact,
			// case-different twin of ours could matter to the full
			// decoder, which matches names without regard to case.
			if bytes.EqualFold(key, []byte("messageStatus")) || bytes.EqualFold(key, []byte("description")) ||
				bytes.EqualFold(key, []byte("apiMessageId")) || bytes.EqualFold(key, []byte("code")) {
				return false
			}
			continue
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		*field = string(val)
	}
}

// field returns where the member or element called name goes in a, for
// the data object (data) or the error object, and its bit in the set of
// names seen so far; nil for any other name.
func (a *answer) field(name []byte, data bool) (*string, int) {
	switch {
	case data && string(name) == "messageStatus":
		return &a.status, 1
	case data && string(name) == "description":
		return &a.description, 2
	case data && string(name) == "apiMessageId":
		return &a.messageID, 4
	case !data && string(name) == "code":
		return &a.code, 1
	case !data && string(name) == "description":
		return &a.errDesc, 2
	}
	return nil, 0
}

// fastXML reads <response><data>…</data></response> (or <error>), after
// an optional <?xml version="1.0"?> declaration, every child a plain
// element holding plain text.
func fastXML(b []byte, a *answer) bool {
	p := xmlScanner{scanner{b: b}}
	p.ws()
	if bytes.HasPrefix(p.b[p.i:], []byte("<?xml")) {
		end := bytes.Index(p.b[p.i:], []byte("?>"))
		if end < 0 {
			return false
		}
		decl := bytes.TrimRight(p.b[p.i:p.i+end], " \t\r\n")
		if string(decl) != `<?xml version="1.0"` {
			return false
		}
		p.i += end + 2
		p.ws()
	}
	if !p.open("response") {
		return false
	}
	seen := 0
	for {
		p.ws()
		if p.close("response") {
			break
		}
		switch {
		case p.open("data"):
			if seen&1 != 0 || !p.children(a, true, "data") {
				return false
			}
			seen |= 1
			a.hasData = true
		case p.open("error"):
			if seen&2 != 0 || !p.children(a, false, "error") {
				return false
			}
			seen |= 2
			a.hasError = true
		default:
			return false
		}
	}
	p.ws()
	return p.i == len(p.b)
}

type xmlScanner struct{ scanner }

// open reads <name>.
func (p *xmlScanner) open(name string) bool {
	n := len(name)
	if len(p.b)-p.i >= n+2 && p.b[p.i] == '<' && string(p.b[p.i+1:p.i+1+n]) == name && p.b[p.i+1+n] == '>' {
		p.i += n + 2
		return true
	}
	return false
}

// close reads </name>.
func (p *xmlScanner) close(name string) bool {
	n := len(name)
	if len(p.b)-p.i >= n+3 && p.b[p.i] == '<' && p.b[p.i+1] == '/' && string(p.b[p.i+2:p.i+2+n]) == name && p.b[p.i+2+n] == '>' {
		p.i += n + 3
		return true
	}
	return false
}

// children reads <tag>text</tag> elements up to </parent>.
func (p *xmlScanner) children(a *answer, data bool, parent string) bool {
	seen := 0
	for {
		p.ws()
		if p.close(parent) {
			return true
		}
		if p.i >= len(p.b) || p.b[p.i] != '<' {
			return false
		}
		end := bytes.IndexByte(p.b[p.i:], '>')
		if end < 0 {
			return false
		}
		tag := p.b[p.i+1 : p.i+end]
		if len(tag) == 0 {
			return false
		}
		for _, c := range tag {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
				return false
			}
		}
		p.i += end + 1
		start := p.i
		for p.i < len(p.b) && p.b[p.i] != '<' {
			c := p.b[p.i]
			if c == '&' || c == '>' || c >= 0x7f || c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
				return false
			}
			p.i++
		}
		text := p.b[start:p.i]
		if !p.close(string(tag)) {
			return false
		}
		if bytes.IndexByte(text, '\r') >= 0 {
			// The full decoder turns \r\n into \n; leave that to it.
			return false
		}
		field, bit := a.field(tag, data)
		if field == nil {
			continue
		}
		if seen&bit != 0 {
			return false
		}
		seen |= bit
		*field = string(text)
	}
}
