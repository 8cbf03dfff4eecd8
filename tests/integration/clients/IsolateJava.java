// Java's HttpClient with default settings (ProxySelector.getDefault(),
// the default SSLContext): what an application that configures nothing
// does. Trust comes from javax.net.ssl.trustStore (chainproxy run's
// JAVA_TOOL_OPTIONS). Prints "status N" or "error: CLASS: MESSAGE".
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

public class IsolateJava {
  public static void main(String[] args) throws Exception {
    HttpClient c = HttpClient.newHttpClient();
    try {
      HttpResponse<String> r = c.send(
          HttpRequest.newBuilder(URI.create(args[0])).build(),
          HttpResponse.BodyHandlers.ofString());
      System.out.println("status " + r.statusCode());
    } catch (Exception e) {
      System.out.println("error: " + e.getClass().getName() + ": " + e.getMessage());
      System.exit(3);
    }
  }
}
