package commands

// Host is what handlers may ask of the server around them; the server
// implements it, so commands never imports server.
type Host interface {
	// Info returns the text of the server-owned INFO sections (server,
	// clients, ...), keyed by lower-case section name.
	InfoSection(name string) (string, bool)
	// ConnectedClients counts open connections.
	ConnectedClients() int
}

