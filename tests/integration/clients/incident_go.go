// One HTTPS GET through an HTTP proxy with Go's crypto/tls and net/http,
// trusting only the roots in CA_FILE (no system roots, no fake clock):
//
//	go run incident_go.go CA_FILE PROXY_URL URL
//
// prints "ok <status>" (exit 0) or "error <what Go said>" (exit 1).
package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"
)

func main() {
	pem, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		fmt.Println("error no certificate in", os.Args[1])
		os.Exit(2)
	}
	proxy, err := url.Parse(os.Args[2])
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	tr := &http.Transport{
		Proxy:           http.ProxyURL(proxy),
		TLSClientConfig: &tls.Config{RootCAs: pool},
	}
	c := &http.Client{Transport: tr, Timeout: 20 * time.Second}
	res, err := c.Get(os.Args[3])
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	res.Body.Close()
	fmt.Println("ok", res.StatusCode)
}
