// A dqlite node that talks TLS to its peers, as k8s-dqlite does in microk8s:
// the go-dqlite app package with app.WithTLS(app.SimpleTLSConfig(cluster.crt,
// cluster.key)), the certificate its own CA. dqlite-demo (go-dqlite 1.11.5)
// has no TLS option; test/dqlite-cluster.ts builds this with Debian's Go and
// Debian's packaged go-dqlite sources (no module download).
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io/ioutil"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/canonical/go-dqlite/app"
)

func main() {
	dir := flag.String("dir", "", "data directory (cluster.yaml, info.yaml)")
	address := flag.String("db", "", "address for dqlite replication, HOST:PORT")
	join := flag.String("join", "", "address of a node to join")
	crt := flag.String("cert", "", "cluster.crt")
	key := flag.String("key", "", "cluster.key")
	flag.Parse()

	cert, err := tls.LoadX509KeyPair(*crt, *key)
	if err != nil {
		fmt.Fprintln(os.Stderr, "load key pair:", err)
		os.Exit(1)
	}
	data, err := ioutil.ReadFile(*crt)
	if err != nil {
		fmt.Fprintln(os.Stderr, "read cert:", err)
		os.Exit(1)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		fmt.Fprintln(os.Stderr, "bad certificate")
		os.Exit(1)
	}
	listen, dial := app.SimpleTLSConfig(cert, pool)
	// go-dqlite 1.11.5 proxies each TLS connection; TLS 1.3 session
	// resumption between two nodes then fails ("invalid PSK binder", "bad
	// record MAC") and the leader never sees the joining node to promote it.
	// Full handshakes every time avoid that; the certificates and checks are
	// the same as without.
	listen.SessionTicketsDisabled = true
	dial.ClientSessionCache = nil
	options := []app.Option{app.WithAddress(*address), app.WithTLS(listen, dial)}
	if *join != "" {
		options = append(options, app.WithCluster([]string{*join}))
	}
	node, err := app.New(*dir, options...)
	if err != nil {
		fmt.Fprintln(os.Stderr, "start:", err)
		os.Exit(1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := node.Ready(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "ready:", err)
		os.Exit(1)
	}
	fmt.Println("ready")

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	<-stop
	node.Close()
}
