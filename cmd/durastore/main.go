// Command durastore is a Redis-protocol storage server.
//
//	durastore [/path/to/durastore.conf] [--option value ...]
//
// Options are redis-server's, in a config file in redis.conf syntax and as
// flags; flags win.
package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"syscall"

	"durastore/server"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "check-aof" {
		return checkAOF(args[1:], stdout, stderr) // checkaof.go
	}
	if len(args) == 1 {
		switch args[0] {
		case "-v", "--version", "version":
			fmt.Fprintf(stdout, "durastore v=%s redis=%s go=%s\n", server.Version, server.RedisVersion, runtime.Version())
			return 0
		case "-h", "--help", "help":
			usage(stdout)
			return 0
		}
	}
	cfg, err := server.ParseArgs(args)
	if err != nil {
		fmt.Fprintf(stderr, "durastore: %v\n", err)
		return 1
	}
	logger, level, closeLog, err := newLogger(cfg, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "durastore: %v\n", err)
		return 1
	}
	defer closeLog()
	slog.SetDefault(logger)

	// GC pacing follows the live heap (gctune.go). An explicit GOGC in
	// the environment wins.
	if os.Getenv("GOGC") == "" {
		tuneGC()
	}

	// DURASTORE_CPUPROFILE=file writes a CPU profile of the whole run, for
	// performance work (go tool pprof durastore file).
	if path := os.Getenv("DURASTORE_CPUPROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintf(stderr, "durastore: DURASTORE_CPUPROFILE: %v\n", err)
			return 1
		}
		pprof.StartCPUProfile(f)
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	// DURASTORE_TRACE=file writes an execution trace of the whole run
	// (go tool trace -pprof=sched file: where goroutines waited to run).
	if path := os.Getenv("DURASTORE_TRACE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			fmt.Fprintf(stderr, "durastore: DURASTORE_TRACE: %v\n", err)
			return 1
		}
		trace.Start(f)
		defer func() { trace.Stop(); f.Close() }()
	}

	srv, err := server.New(cfg, logger)
	if err != nil {
		logger.Error("cannot start", "err", err)
		fmt.Fprintf(stderr, "durastore: %v\n", err)
		return 1
	}
	srv.SetLogLevel(level) // CONFIG SET loglevel takes effect at once
	if err := srv.Start(); err != nil {
		logger.Error("cannot start", "err", err)
		fmt.Fprintf(stderr, "durastore: %v\n", err)
		srv.Shutdown()
		return 1
	}
	logger.Info("durastore ready", "version", server.Version, "port", cfg.Port, "dir", cfg.Dir,
		"appendonly", cfg.AppendOnly, "appendfsync", cfg.AppendFsync, "pid", os.Getpid())

	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	select {
	case sig := <-sigs:
		logger.Info("signal received, shutting down", "signal", sig.String())
	case <-srv.Done():
	}
	// DURASTORE_HEAPPROFILE=file writes a heap profile at shutdown.
	if path := os.Getenv("DURASTORE_HEAPPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	}
	if err := srv.Shutdown(); err != nil {
		logger.Error("shutdown", "err", err)
		return 1
	}
	return 0
}

// newLogger builds the slog logger from loglevel and logfile. Its level is
// a LevelVar, so CONFIG SET loglevel can change it.
func newLogger(cfg server.Config, stderr io.Writer) (*slog.Logger, *slog.LevelVar, func(), error) {
	level := new(slog.LevelVar)
	level.Set(server.SlogLevel(cfg.LogLevel))
	out := stderr
	closeFn := func() {}
	if cfg.LogFile != "" {
		f, err := os.OpenFile(cfg.LogFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("logfile %q: %w", cfg.LogFile, err)
		}
		out = f
		closeFn = func() { f.Close() }
	}
	return slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: level})), level, closeFn, nil
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: durastore [/path/to/durastore.conf] [--option value ...]
       durastore --version
       durastore --help
       durastore check-aof FILE|DIR [--fix]

Options are redis-server's (port, bind, dir, appendonly, appendfsync,
databases, maxclients, timeout, loglevel, requirepass, ...), given in a
config file in redis.conf syntax and/or as --flags; flags win.

Examples:
       durastore                              (data in ./data, port 6379)
       durastore --port 7777 --dir /var/lib/durastore
       durastore /etc/durastore.conf --loglevel warning
`)
}
