/* The web view's files as the binary holds them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "control/ui.h"


static void test_ui(void **state) {
  const cp_ui_asset_t *page = cp_ui_find("/ui");

  (void)state;
  assert_non_null(page);
  assert_ptr_equal(cp_ui_find("/ui/"), page);
  assert_ptr_equal(cp_ui_find("/ui/index.html"), page);
  assert_string_equal(cp_ui_type(page), "text/html; charset=utf-8");
  assert_non_null(
      strstr((const char *)page->data, "<script src=\"/ui/app.js\""));
  /* No inline script: the policy forbids it. */
  assert_null(strstr((const char *)page->data, "<script>"));
  assert_string_equal(cp_ui_type(cp_ui_find("/ui/app.js")),
                      "text/javascript; charset=utf-8");
  assert_string_equal(cp_ui_type(cp_ui_find("/ui/app.css")),
                      "text/css; charset=utf-8");
  assert_int_equal(cp_ui_find("/ui/app.js")->len,
                   strlen((const char *)cp_ui_find("/ui/app.js")->data));
  assert_null(cp_ui_find("/ui/../ca.key"));
  assert_null(cp_ui_find("/uix"));
}


int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_ui),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
