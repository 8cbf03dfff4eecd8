// A Go client with default settings: net/http's DefaultClient, whose
// ProxyFromEnvironment never proxies localhost or loopback addresses, so
// HTTPS_PROXY alone cannot show what it does (chainproxy run --isolate
// can). Trust comes from SSL_CERT_FILE. Prints "status N" or "error: ...".
package main

import (
	"fmt"
	"io"
	"net/http"
	"os"
)

func main() {
	res, err := http.Get(os.Args[1])
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(3)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	fmt.Println("status", res.StatusCode)
}
