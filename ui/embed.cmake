# Turns the web view's files (ui/) into C arrays the binary serves at /ui,
# so it needs no files at run time. usage:
#   cmake -DSRC=ui -DOUT=build/ui_assets.c -P ui/embed.cmake
# name|path (the Content-Type follows from the name: proxy/control/ui.c)
set(assets "index.html|/ui" "app.js|/ui/app.js" "app.css|/ui/app.css")
file(WRITE ${OUT}.tmp "/* Generated from ui/ by ui/embed.cmake; do not edit. */\n#include \"control/ui.h\"\n\n")
set(table "")
foreach(a ${assets})
  string(REPLACE "|" ";" parts "${a}")
  list(GET parts 0 name)
  list(GET parts 1 path)
  file(READ ${SRC}/${name} hex HEX)
  string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," hex "${hex}")
  string(MAKE_C_IDENTIFIER ${name} id)
  file(APPEND ${OUT}.tmp "static const unsigned char ${id}[] = {${hex}0x00};\n")
  string(APPEND table "    {\"${path}\", ${id}, sizeof(${id}) - 1},\n")
endforeach()
file(APPEND ${OUT}.tmp "\nconst cp_ui_asset_t cp_ui_assets[] = {\n${table}    {0, 0, 0},\n};\n")
file(RENAME ${OUT}.tmp ${OUT})
