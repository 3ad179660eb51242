// Package clickatell is a client for Clickatell's legacy REST API, limited to
// what recall needs: stopping a scheduled message (StopMessage, DELETE
// /rest/message/{id}) and reading its status (MessageStatus, GET).
//
//	c, err := clickatell.New(clickatell.WithToken(token))
//	res, err := c.StopMessage(ctx, "360586640fe9846954897dffe6c13dfc")
//
// # Requests
//
// Every request carries X-Version: 1, Authorization: Bearer {token},
// Accept: application/json (or application/xml with WithFormat(XML)) and
// User-Agent: recall/{version}. The base URL must be https://, or http://
// to a loopback host (127.0.0.0/8, ::1, localhost) for a simulator; it may
// not hold credentials, a query or a fragment. Connections are kept alive
// and pooled (NewTransport); redirects are never followed, since Go would
// turn a redirected DELETE into a GET, whose answer would read as a settled
// status.
//
// # Answers
//
// Bodies are read up to MaxBodySize (64 KiB). JSON and XML are both
// understood whatever was asked for: the first byte decides, not
// Content-Type, which proxies get wrong. Where Clickatell's documentation
// is silent (see the project's reference notes), every plausible answer is
// mapped, erring towards "not settled": a message settled wrongly is never
// tried again, while one left unsettled is tried again next run.
//
//	answer                                              result
//	--------------------------------------------------  ------------------------
//	2xx (200, 202, 207: "2xx" below), data, status 006  Result Cancelled
//	2xx, data, messageStatus 002, 003, 004 or 008       Result TooLate, status kept
//	2xx, data, messageStatus 005, 007, 009, 010, 012,   Result NotDelivered,
//	013 or 014                                          status kept
//	2xx, data, messageStatus 001                        Result NotFound
//	2xx, data, messageStatus 011 (still scheduled)      *StatusError (retry; a
//	                                                    GET gives up)
//	2xx, data, any other status (015, 999, …)           *StatusError (give up)
//	2xx, data about another apiMessageId                *DecodeError (give up)
//	data beside an error, or a member or element that   *DecodeError (give up):
//	recall reads given twice (011, then 006)            two answers in one
//	2xx, data without a 1-3 digit messageStatus         *DecodeError (give up)
//	2xx, empty, truncated or malformed body, HTML page  *DecodeError (give up)
//	200, 202, 207 or 4xx, error 103, 104 or 161         Result NotFound, code kept
//	(unknown message)
//	another 2xx (203 from a proxy, 206, 226, …)         *DecodeError or *APIError
//	                                                    (give up)
//	404, any other error code, or none                  *APIError (give up)
//	404, no body, data (any status), HTML page or text  *APIError (give up): a
//	that is not an answer                               proxy or a wrong endpoint,
//	                                                    not Clickatell
//	401 or 402 (any body); error 001, 007, 165, 166,    *APIError (stop the run)
//	167 or 301 at any status
//	429 (any body), 408                                 *APIError (retry), with
//	                                                    RetryAfter
//	5xx but 501 and 505 (any body: error 901, an HTML   *APIError (retry)
//	page from a proxy, garbage); error 901 at any status
//	3xx                                                 *APIError (give up),
//	                                                    naming the Location
//	any other status or error code                      *APIError (give up)
//	no complete answer: refused, reset or dropped       *TransportError (retry)
//	connection, io.ErrUnexpectedEOF, timeout
//	untrusted TLS certificate, HTTP from an HTTPS host  *TransportError (give up)
//	the caller's context ended                          its error, wrapped (give up)
//
// Classify turns any of these errors into a Disposition: Retry, GiveUp or
// Stop. Error 301 and HTTP 402 (no credit) stop the run like 401: credit
// belongs to the account, not to a message, so every further call would
// fail the same way, and one clear error beats thousands of identical ones.
// Statuses map to outcomes by Clickatell's status table (the project's
// reference notes). Status 011 "scheduled for later delivery" after a stop
// call settles nothing: the stop did not take, so it is retried like a 503,
// and a message still scheduled after the retries stays to be tried again.
// A status not in the table is never guessed at. Only Clickatell's own
// "unknown message" error settles a 404: gateways and proxies answer 404
// too, with an empty body, a page, or JSON of their own.
//
// # The token
//
// The token is sent in the Authorization header only. It never appears in
// an error, a Stringer or a fmt verb on the Client: errors from the
// transport are scanned for it, and bodies quoted in errors (an echo
// server, a debugging proxy) have it, and anything after "Bearer ", cut
// out before they are shortened.
//
// # Retries and throttling
//
// RetryPolicy.Do retries what Classify calls Retry, at most MaxRetries
// times, waiting a full-jitter exponential backoff (BaseDelay 100 ms,
// doubling, capped at MaxDelay 30 s) or the answer's Retry-After
// (delta-seconds or an HTTP date), whichever is longer, capped at
// MaxDelay; it stops as soon as its context ends. A Throttle shared by all
// workers paces their calls (an optional hard cap) and finds the rate the
// API accepts: a 429 sets the rate just under the rate the API was
// measured to accept, once per round trip (429s for calls sent before the
// cut do not cut again), and calls that succeed raise it slowly back,
// never above the cap. A 429's Retry-After delays only the call that drew
// it; a 503's pauses every worker.
package clickatell
