// Java's JSSE (PKIX trust manager, HTTPS endpoint identification) through
// an HTTP proxy with CONNECT, run as a single file: java JavaClient.java
//   TRUSTSTORE PASSWORD PROXY_HOST HOST PORT LABEL=PROXY_PORT...
// prints "LABEL<TAB>ok" or "LABEL<TAB><exception message>".
import java.io.FileInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

public class JavaClient {
  static String one(SSLContext ctx, String proxyHost, int proxyPort,
                    String host, int port) {
    try (Socket raw = new Socket(proxyHost, proxyPort)) {
      raw.setSoTimeout(20000);
      OutputStream out = raw.getOutputStream();
      out.write(("CONNECT " + host + ":" + port + " HTTP/1.1\r\nHost: " + host
                 + ":" + port + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = raw.getInputStream();
      StringBuilder head = new StringBuilder();
      while (!head.toString().endsWith("\r\n\r\n")) {
        int b = in.read();
        if (b < 0) {
          return "proxy closed the connection";
        }
        head.append((char) b);
      }
      if (!head.toString().startsWith("HTTP/1.1 200")) {
        return "CONNECT refused";
      }
      SSLSocket s = (SSLSocket) ctx.getSocketFactory()
          .createSocket(raw, host, port, true);
      SSLParameters p = s.getSSLParameters();
      p.setEndpointIdentificationAlgorithm("HTTPS");
      s.setSSLParameters(p);
      s.startHandshake();
      s.close();
      return "ok";
    } catch (Exception e) {
      String m = e.getMessage();
      return m == null ? e.getClass().getName() : m;
    }
  }

  public static void main(String[] args) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (FileInputStream f = new FileInputStream(args[0])) {
      ks.load(f, args[1].toCharArray());
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    for (int i = 5; i < args.length; i++) {
      String[] cell = args[i].split("=");
      System.out.println(cell[0] + "\t" + one(ctx, args[2],
          Integer.parseInt(cell[1]), args[3], Integer.parseInt(args[4])));
    }
  }
}
