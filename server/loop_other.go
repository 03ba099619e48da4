//go:build !linux

package server

// Without epoll, every connection has a goroutine of its own (conn.go).

type netLoop struct{}

type rawConn struct{ lp *netLoop }

func (c *rawConn) release()           {}
func (lp *netLoop) add(lc *limitConn) {}

func (s *Server) startLoops() error               { return nil }
func (s *Server) stopLoops()                      {}
func (s *Server) loopConn(lc *limitConn) *rawConn { return nil }
