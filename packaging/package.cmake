# Install rules and the Debian package (docs/install.md).
#   cmake --install build [--prefix P]   installs bin, man page, data, docs
#   cd build && cpack -G DEB              builds chainproxy_VERSION_ARCH.deb
# The binary finds its data beside it (PREFIX/share/chainproxy), so an
# install prefix can be chosen, or moved, after the build.
include(GNUInstallDirs)

install(TARGETS chainproxy RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(FILES certs/profiles.json certs/distrust.json certs/clients.json certs/families.json
        DESTINATION ${CMAKE_INSTALL_DATADIR}/chainproxy)
# The real certificates the incident profiles clone (profiles.json names
# them relative to itself).
install(DIRECTORY certs/real DESTINATION ${CMAKE_INSTALL_DATADIR}/chainproxy)
install(FILES docs/chainproxy.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
file(GLOB CP_DOCS ${CMAKE_SOURCE_DIR}/docs/*.md)
install(FILES README.md ${CP_DOCS} DESTINATION ${CMAKE_INSTALL_DOCDIR})
# The service files go only into the package (cpack sets this on).
option(CP_INSTALL_SERVICE "Install the systemd unit and /etc/default file"
       OFF)
if(CP_INSTALL_SERVICE)
  install(FILES packaging/chainproxy.service DESTINATION lib/systemd/system)
  install(FILES packaging/default DESTINATION /etc/default
          RENAME chainproxy)
endif()

set(CPACK_PACKAGE_NAME chainproxy)
set(CPACK_PACKAGE_VERSION ${CP_PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "chainproxy developers <chainproxy@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "TLS-intercepting diagnostic forward proxy")
set(CPACK_PACKAGE_DESCRIPTION
    "chainproxy terminates its clients' TLS with its own CA, verifies the
upstream chain and names the element that fails, and serves clients the
legacy or modern chain (or other classic defects) to reproduce certificate
errors on demand.")
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends from the binary's shared libraries (dpkg-shlibdeps), plus what
# the maintainer scripts use.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "ca-certificates")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/postinst
    ${CMAKE_SOURCE_DIR}/packaging/prerm
    ${CMAKE_SOURCE_DIR}/packaging/postrm
    ${CMAKE_SOURCE_DIR}/packaging/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
