package server

// Exposure (issue 7, part 6): protected mode and the TLS listener.
//
// Protected mode is Redis 7.0's: while protected-mode is yes and no
// password is set, a client connecting from anywhere but the loopback
// interface gets Redis's DENIED text and is closed. With the default bind
// (127.0.0.1) no such client can connect at all; the check matters once
// bind names a public address.
//
// tls-port adds RESP listeners speaking TLS on every bind address, with
// tls-cert-file and tls-key-file, and client certificates checked against
// tls-ca-cert-file as tls-auth-clients says (yes, the default as in Redis,
// requires one; optional checks one if given; no asks for none). TLS
// connections go through the same request limits as plain ones.

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
)

// deniedReply is Redis 7.0's reply to a client refused by protected mode.
const deniedReply = "-DENIED Redis is running in protected mode because protected " +
	"mode is enabled and no password is set for the default user. " +
	"In this mode connections are only accepted from the loopback interface. " +
	"If you want to connect from external computers to Redis you " +
	"may adopt one of the following solutions: " +
	"1) Just disable protected mode sending the command " +
	"'CONFIG SET protected-mode no' from the loopback interface " +
	"by connecting to Redis from the same host the server is " +
	"running, however MAKE SURE Redis is not publicly accessible " +
	"from internet if you do so. Use CONFIG REWRITE to make this " +
	"change permanent. " +
	"2) Alternatively you can just disable the protected mode by " +
	"editing the Redis configuration file, and setting the protected " +
	"mode option to 'no', and then restarting the server. " +
	"3) If you started the server manually just for testing, restart " +
	"it with the '--protected-mode no' option. " +
	"4) Setup a an authentication password for the default user. " +
	"NOTE: You only need to do one of the above things in order for " +
	"the server to start accepting connections from the outside.\r\n"

// refuseProtected refuses, with Redis's DENIED text, a client that
// protected mode does not admit. It reports whether it did.
func (s *Server) refuseProtected(nc net.Conn) bool {
	s.cfgMu.RLock()
	on := s.cfg.ProtectedMode && s.cfg.RequirePass == ""
	s.cfgMu.RUnlock()
	if !on {
		return false
	}
	if ta, ok := nc.RemoteAddr().(*net.TCPAddr); !ok || ta.IP.IsLoopback() {
		return false
	}
	s.rejectedConns.Add(1)
	s.log.Debug("client refused by protected mode", "addr", nc.RemoteAddr().String())
	// Both deadlines (refuseConn): on a TLS connection the write first
	// needs a handshake, which a silent client would otherwise stall
	// forever.
	go refuseConn(nc, deniedReply)
	return true
}

// tlsConfig builds the listener's TLS configuration from tls-*.
func tlsConfig(cfg Config) (*tls.Config, error) {
	if cfg.TLSCertFile == "" || cfg.TLSKeyFile == "" {
		return nil, errors.New("tls-port is set: tls-cert-file and tls-key-file are required")
	}
	cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
	if err != nil {
		return nil, fmt.Errorf("loading tls-cert-file %s and tls-key-file %s: %w", cfg.TLSCertFile, cfg.TLSKeyFile, err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	switch cfg.TLSAuthClients {
	case "no":
		tc.ClientAuth = tls.NoClientCert
		return tc, nil
	case "optional":
		tc.ClientAuth = tls.VerifyClientCertIfGiven
	default:
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	if cfg.TLSCACertFile == "" {
		return nil, fmt.Errorf("tls-auth-clients %s needs tls-ca-cert-file to check client certificates", cfg.TLSAuthClients)
	}
	pem, err := os.ReadFile(cfg.TLSCACertFile)
	if err != nil {
		return nil, fmt.Errorf("tls-ca-cert-file: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("tls-ca-cert-file %s holds no PEM certificate", cfg.TLSCACertFile)
	}
	tc.ClientCAs = pool
	return tc, nil
}

// startTLS listens on tls-port on every bind address.
func (s *Server) startTLS() error {
	if s.cfg.TLSPort == 0 {
		return nil
	}
	tc, err := tlsConfig(s.cfg)
	if err != nil {
		return err
	}
	binds := s.cfg.Bind
	if len(binds) == 0 {
		binds = []string{""}
	}
	for _, host := range binds {
		addr := net.JoinHostPort(host, strconv.Itoa(s.cfg.TLSPort))
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("listening on %s (tls-port): %w", addr, err)
		}
		s.serveRESP(tls.NewListener(ln, tc), addr) // conn.go
		s.log.Info("listening with TLS", "addr", ln.Addr().String())
	}
	return nil
}
