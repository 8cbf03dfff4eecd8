// Java's JSSE (PKIX trust manager, HTTPS endpoint identification) straight
// to catalogue cases, trusting only the catalogue CA (or the case's own
// store), one JVM for all:
//   java CatalogueJava.java TRUSTSTORE.p12 PASSWORD NAME=PORT[=STORE.p12]...
// prints "NAME<TAB>ok <body's first line>" or "NAME<TAB>error <message>".
import java.io.FileInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

public class CatalogueJava {
  static String one(SSLContext ctx, String name, int port) {
    String host = name + ".chainproxy.test";
    try (Socket raw = new Socket()) {
      raw.connect(new InetSocketAddress("127.0.0.1", port), 10000);
      raw.setSoTimeout(10000);
      SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(
          raw, host, port, true);
      SSLParameters p = s.getSSLParameters();
      p.setEndpointIdentificationAlgorithm("HTTPS");
      p.setServerNames(List.of(new SNIHostName(host)));
      p.setApplicationProtocols(new String[] {"http/1.1"});
      s.setSSLParameters(p);
      s.startHandshake();
      OutputStream out = s.getOutputStream();
      out.write(("GET / HTTP/1.1\r\nHost: " + host
                 + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      String resp = new String(s.getInputStream().readAllBytes(),
                               StandardCharsets.UTF_8);
      int i = resp.indexOf("\r\n\r\n");
      return "ok " + (i < 0 ? "" : resp.substring(i + 4).split("\n")[0]);
    } catch (Exception e) {
      String m = e.toString();
      for (Throwable c = e.getCause(); c != null; c = c.getCause()) {
        m += " / " + c;
      }
      return "error " + m.replace('\n', ' ');
    }
  }

  static SSLContext context(String store, String password) throws Exception {
    KeyStore ks = KeyStore.getInstance("PKCS12");
    try (InputStream in = new FileInputStream(store)) {
      ks.load(in, password.toCharArray());
    }
    TrustManagerFactory tmf =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    SSLContext ctx = SSLContext.getInstance("TLS");
    ctx.init(null, tmf.getTrustManagers(), null);
    return ctx;
  }

  public static void main(String[] args) throws Exception {
    Map<String, SSLContext> ctxs = new HashMap<>();
    for (int i = 2; i < args.length; i++) {
      String[] kv = args[i].split("=", 3);
      String store = kv.length > 2 ? kv[2] : args[0];
      if (!ctxs.containsKey(store)) {
        ctxs.put(store, context(store, args[1]));
      }
      System.out.println(
          kv[0] + "\t" + one(ctxs.get(store), kv[0], Integer.parseInt(kv[1])));
    }
  }
}
