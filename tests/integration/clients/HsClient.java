// One HTTPS request with Java's HttpsURLConnection, printing what the app
// sees: "ok STATUS" or the exception as Java prints it. Trust, proxy and
// TLS settings come from the usual system properties (javax.net.ssl.*,
// https.proxyHost/Port, jdk.tls.client.protocols, https.cipherSuites).
//   java HsClient URL
import java.net.URL;
import javax.net.ssl.HttpsURLConnection;

public class HsClient {
  public static void main(String[] args) {
    try {
      HttpsURLConnection c = (HttpsURLConnection) new URL(args[0]).openConnection();
      c.setConnectTimeout(5000);
      c.setReadTimeout(5000);
      System.out.println("ok " + c.getResponseCode());
    } catch (Exception e) {
      System.out.println(e);
      System.exit(1);
    }
  }
}
