package middleware

import (
	"io"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gin-gonic/gin"
)

// AccessLog writes one JSON line per request to out, the writer the
// service's slog JSON handler writes to, in the handler's own format:
//
//	{"time":…,"level":"INFO","msg":"request","method":…,"route":…,"status":…,"duration":…,"request_id":…,"remote":…}
//
// It logs the route pattern, never the raw path or query, which can carry
// codes and tokens. The line is built in a pooled buffer rather than
// through slog, which costs several times more for the same line; out is
// expected to buffer (logbuf), so a request costs no write(2) either.
func AccessLog(out io.Writer) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		route := c.FullPath()
		if route == "" {
			route = "(unmatched)"
		}
		bp := lineBuffers.Get().(*[]byte)
		line := appendAccessLine((*bp)[:0], time.Now(), c.Request.Method, route, c.Writer.Status(),
			time.Since(start), GetRequestID(c), c.ClientIP())
		out.Write(line)
		*bp = line
		lineBuffers.Put(bp)
	}
}

var lineBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// appendAccessLine appends the access log line, as slog.NewJSONHandler
// would write the same record.
func appendAccessLine(b []byte, t time.Time, method, route string, status int, d time.Duration, requestID, remote string) []byte {
	b = append(b, `{"time":"`...)
	b = t.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"INFO","msg":"request","method":`...)
	b = appendJSONString(b, method)
	b = append(b, `,"route":`...)
	b = appendJSONString(b, route)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(status), 10)
	b = append(b, `,"duration":`...)
	b = strconv.AppendInt(b, int64(d), 10)
	b = append(b, `,"request_id":`...)
	b = appendJSONString(b, requestID)
	b = append(b, `,"remote":`...)
	b = appendJSONString(b, remote)
	return append(b, "}\n"...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string, escaped as slog's JSON
// handler escapes: quote, backslash, control characters, U+2028 and
// U+2029, and each invalid UTF-8 byte as U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
