package pg

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// StripPassword returns the PostgreSQL URL loc without any password: none
// in the user info, and no password or sslpassword parameter. It is the
// location a saved plan records; the password comes back at apply time
// from PGPASSWORD, a password or service file, or RECALL_STATE.
func StripPassword(loc string) (string, error) {
	u, err := parseURL(loc)
	if err != nil {
		return "", err
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	changed := false
	for k := range q {
		if strings.Contains(strings.ToLower(k), "password") {
			q.Del(k)
			changed = true
		}
	}
	if changed {
		u.RawQuery = q.Encode()
	}
	return u.String(), nil
}

// HasPassword reports whether the PostgreSQL URL loc holds a password.
func HasPassword(loc string) bool {
	s, err := StripPassword(loc)
	return err == nil && s != loc
}

// SameState reports whether the PostgreSQL URLs a and b name the same
// database and schema, and so (with the same workspace) the same state,
// whatever their credentials and spelling: postgres:// or postgresql://,
// the host's case, a default port written out or not, parameters in
// another order or that do not change where the state is (sslmode,
// connect_timeout, application_name).
func SameState(a, b string) bool {
	ia, erra := identity(a)
	ib, errb := identity(b)
	return erra == nil && errb == nil && ia == ib
}

// identity is what names a PostgreSQL state's place: host, port,
// database and schema, as pgx resolves them (so PGHOST, PGPORT,
// PGDATABASE and service files are taken into account the way a
// connection would take them).
func identity(loc string) (string, error) {
	u, err := parseURL(loc)
	if err != nil {
		return "", err
	}
	q := u.Query()
	schema := DefaultSchema
	if q.Has("schema") {
		schema = q.Get("schema")
		q.Del("schema")
	}
	for k := range q {
		if strings.Contains(strings.ToLower(k), "password") {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	cc, err := pgx.ParseConfig(u.String())
	if err != nil {
		// Not a configuration pgx can use (a TLS file that is missing,
		// say): compare what the URL says, spelled one way.
		host := strings.ToLower(u.Hostname())
		port := u.Port()
		if port == "" {
			port = "5432"
		}
		return "url " + host + ":" + port + u.EscapedPath() + "?" + q.Encode() + "#schema=" + schema, nil
	}
	db := cc.Database
	if db == "" {
		db = cc.User // the server's default database is the user's name
	}
	return "pgx " + strings.ToLower(cc.Host) + ":" + strconv.Itoa(int(cc.Port)) + "/" + db + "#schema=" + schema, nil
}

// parseURL parses a postgres:// or postgresql:// URL, with an error that
// never repeats it (it may hold a password).
func parseURL(loc string) (*url.URL, error) {
	u, err := url.Parse(loc)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, errors.New("invalid PostgreSQL URL: " + err.Error())
	}
	if s := strings.ToLower(u.Scheme); s != "postgres" && s != "postgresql" {
		return nil, errors.New("invalid PostgreSQL URL: want postgres:// or postgresql://")
	}
	return u, nil
}
