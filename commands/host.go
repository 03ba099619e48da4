package commands

import "time"

// Host is what handlers may ask of the server around them; the server
// implements it, so commands never imports server.
type Host interface {
	// InfoSection returns extra "field:value\r\n" lines the server wants in
	// an INFO section (lower-case name), appended after ours.
	InfoSection(name string) (string, bool)
	// ConnectedClients counts open connections.
	ConnectedClients() int

	// ServerInfo describes the running server for INFO and HELLO.
	ServerInfo() ServerInfo
	// RequirePass is the password of the default user, "" for none.
	RequirePass() string

	// Clients lists the open connections in ID order.
	Clients() []ClientInfo
	// KillClient closes another connection; false if there is none with
	// that ID. The caller's own connection is closed by setting
	// Session.Closing instead, so its reply goes out first.
	KillClient(id int64) bool

	// ConfigGet returns the name/value pairs matching a glob pattern, as
	// CONFIG GET.
	ConfigGet(pattern string) [][2]string
	// ConfigValue returns one parameter's current value ("" if unknown).
	ConfigValue(name string) string
	// ConfigSet applies CONFIG SET's pairs atomically; the error text is
	// the reply, "ERR ..." included.
	ConfigSet(pairs [][2]string) error
	// ConfigRewrite writes the configuration file (CONFIG REWRITE).
	ConfigRewrite() error
	// ResetStats zeroes the server's counters (CONFIG RESETSTAT).
	ResetStats()

	// Saved records a completed SAVE/BGSAVE for LASTSAVE.
	Saved(t time.Time)
	// RequestShutdown asks the server to stop; it returns at once and the
	// server stops after the running batch.
	RequestShutdown()
}

// ServerInfo is the server's identity and counters, for INFO and HELLO.
type ServerInfo struct {
	Version      string // durastore's version
	RedisVersion string // the Redis version whose behaviour we follow
	RunID        string // 40 hex characters, new at each start
	ReplID       string // master_replid, 40 hex characters
	Port         int
	Executable   string
	ConfigFile   string
	Started      time.Time
	LastSave     time.Time

	TotalConnections    int64 // connections accepted since start (or RESETSTAT)
	RejectedConnections int64 // connections refused by maxclients
}

// ClientInfo is one open connection as CLIENT LIST shows it.
type ClientInfo struct {
	Session *Session
	FD      int // the socket's file descriptor, -1 if unknown
}
