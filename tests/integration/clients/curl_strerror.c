/* A minimal libcurl app, as Insomnia, Unity or KiCad embed it: fetch URL
 * through PROXY trusting CAFILE, and print what such apps show the user,
 * curl_easy_strerror() of the result.
 *   curl_strerror URL PROXY CAFILE  ->  "ok 200" (exit 0) or the text
 *   (exit 1); exit 2 on usage errors. */
#include <stdio.h>

#include <curl/curl.h>

static size_t discard(char *p, size_t size, size_t n, void *arg) {
  (void)p;
  (void)arg;
  return size * n;
}


int main(int argc, char **argv) {
  CURL *h;
  CURLcode rc;
  long status = 0;

  if (argc != 4) {
    fprintf(stderr, "usage: curl_strerror URL PROXY CAFILE\n");
    return 2;
  }
  if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
      (h = curl_easy_init()) == NULL) {
    fprintf(stderr, "curl_strerror: cannot initialise libcurl\n");
    return 2;
  }
  curl_easy_setopt(h, CURLOPT_URL, argv[1]);
  curl_easy_setopt(h, CURLOPT_PROXY, argv[2]);
  curl_easy_setopt(h, CURLOPT_CAINFO, argv[3]);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
  curl_easy_setopt(h, CURLOPT_TIMEOUT, 20L);
  rc = curl_easy_perform(h);
  if (rc == CURLE_OK) {
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    printf("ok %ld\n", status);
  } else {
    printf("%s\n", curl_easy_strerror(rc));
  }
  curl_easy_cleanup(h);
  curl_global_cleanup();
  return rc == CURLE_OK ? 0 : 1;
}
