// One TLS handshake with Go's crypto/tls, verifying as Go does on Linux
// with only the given roots: prints "ok" or the error Go reports.
//   tls_verify_go ADDR SERVERNAME CAFILE
package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"time"
)

func main() {
	pem, err := os.ReadFile(os.Args[3])
	if err != nil {
		fmt.Println(err)
		os.Exit(2)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	d := &net.Dialer{Timeout: 10 * time.Second}
	c, err := tls.DialWithDialer(d, "tcp", os.Args[1],
		&tls.Config{RootCAs: roots, ServerName: os.Args[2]})
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	c.Close()
	fmt.Println("ok")
}
