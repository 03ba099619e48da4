package engine

import "unsafe"

// unsafeString views b as a string without copying. b must never change
// afterwards: callers hand over freshly built buffers.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}
