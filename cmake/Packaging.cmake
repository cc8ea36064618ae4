# Packaging: the files around the executables (desktop entry, AppStream metadata, icons, manual pages, udev rule,
# Debian copyright and changelog) and the Debian package "onboarder", made by CPack.
#
#   cmake --workflow --preset package          configure, build, and make build/package/onboarder_<version>_<arch>.deb
#   cmake --build <dir> --target package       the same from any configured tree (install prefix: /usr)
#   packaging/check-package <file.deb>         lintian, appstreamcli and desktop-file-validate over the package
#
# Every install() of the project lands in the one package, whatever its COMPONENT ("runtime" for executables and
# plugins, "desktop" for the desktop integration, "doc" for manual pages and documents).
#
# What the package holds (executables are installed by their own folders' CMakeLists):
#   /usr/bin/onboarder, onboarder-cli, onboarder-sandbox          app/, sandbox/hub/
#   /usr/lib/<arch>/onboarder/onboarder_sandbox_mqtt.so           sandbox/hub/plugin/ (the sandbox broker's plugin)
#   /usr/bin/onboarder-modem-sim                                  sandbox/modem/
#   /usr/bin/onboarder-sensor-sim                                 sandbox/sensors/
#   /usr/lib/systemd/system/onboarder-relay.service               packaging/systemd/ (the headless relay,
#                                                                 `onboarder-cli relay run`; not enabled by the package)
#   /usr/libexec/onboarder/onboarder-keyring-session              packaging/systemd/ (the relay's private D-Bus session
#                                                                 and gnome-keyring, its keyring's password a credential)
#   /usr/lib/sysusers.d/onboarder.conf, /usr/lib/tmpfiles.d/onboarder.conf
#                                                                 packaging/{sysusers,tmpfiles}/ (the relay's system
#                                                                 user "onboarder", its home /var/lib/onboarder-relay;
#                                                                 made by the postinst, packaging/debian/postinst)
#   /usr/share/applications/onboarder.desktop, /usr/share/metainfo/invalid.example.onboarder.metainfo.xml,
#   /usr/share/icons/hicolor/{16..256,scalable}/apps/onboarder.*, /usr/share/man/man1/*.1.gz,
#   /usr/lib/udev/rules.d/70-onboarder-nordic.rules, /usr/share/doc/onboarder/{copyright,changelog.gz}
include_guard(GLOBAL)

set(onboarder_packaging_dir ${PROJECT_SOURCE_DIR}/packaging)
set(onboarder_resources_dir ${PROJECT_SOURCE_DIR}/resources)
set(onboarder_docdir ${CMAKE_INSTALL_DATADIR}/doc/onboarder) # the package's name, not PROJECT_NAME

find_program(ONBOARDER_GZIP gzip REQUIRED)

# gzip -n -9 (no name or time stamp inside: reproducible, as Debian wants) of a file configured with
# @PROJECT_VERSION@; the result is ${CMAKE_CURRENT_BINARY_DIR}/packaging/<name>.gz.
function(onboarder_gzip_configured source name out_var)
    set(configured ${CMAKE_CURRENT_BINARY_DIR}/packaging/${name})
    configure_file(${source} ${configured} @ONLY)
    add_custom_command(OUTPUT ${configured}.gz
        COMMAND ${ONBOARDER_GZIP} -n -9 -f -k ${configured}
        DEPENDS ${configured}
        COMMENT "Compressing ${name}"
        VERBATIM)
    set(${out_var} ${configured}.gz PARENT_SCOPE)
endfunction()

# Desktop integration: only with the GUI.
if(ONBOARDER_BUILD_GUI)
    install(FILES ${onboarder_resources_dir}/onboarder.desktop
        DESTINATION ${CMAKE_INSTALL_DATADIR}/applications COMPONENT desktop)
    install(FILES ${onboarder_resources_dir}/invalid.example.onboarder.metainfo.xml
        DESTINATION ${CMAKE_INSTALL_DATADIR}/metainfo COMPONENT desktop)
    install(FILES ${onboarder_resources_dir}/icons/onboarder.svg
        DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps COMPONENT desktop)
    # Rendered from the SVG by packaging/render-icons.
    foreach(size 16 22 24 32 48 64 128 256)
        install(FILES ${onboarder_resources_dir}/icons/onboarder-${size}.png
            DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/${size}x${size}/apps
            RENAME onboarder.png COMPONENT desktop)
    endforeach()
endif()

# The headless relay's system service (its comments say how to set it up), the wrapper that gives it a
# keychain (a private D-Bus session with gnome-keyring), its system user and that user's home.
install(FILES ${onboarder_packaging_dir}/systemd/onboarder-relay.service
    DESTINATION ${CMAKE_INSTALL_PREFIX}/lib/systemd/system COMPONENT runtime)
install(PROGRAMS ${onboarder_packaging_dir}/systemd/onboarder-keyring-session
    DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/onboarder COMPONENT runtime)
install(FILES ${onboarder_packaging_dir}/sysusers/onboarder.conf
    DESTINATION ${CMAKE_INSTALL_PREFIX}/lib/sysusers.d COMPONENT runtime)
install(FILES ${onboarder_packaging_dir}/tmpfiles/onboarder.conf
    DESTINATION ${CMAKE_INSTALL_PREFIX}/lib/tmpfiles.d COMPONENT runtime)

# Manual pages.
set(onboarder_man_pages onboarder-cli onboarder-sandbox onboarder-modem-sim onboarder-sensor-sim)
if(ONBOARDER_BUILD_GUI)
    list(APPEND onboarder_man_pages onboarder)
endif()
set(onboarder_packaging_outputs)
foreach(page IN LISTS onboarder_man_pages)
    onboarder_gzip_configured(${onboarder_packaging_dir}/man/${page}.1.in ${page}.1 compressed)
    install(FILES ${compressed} DESTINATION ${CMAKE_INSTALL_MANDIR}/man1 COMPONENT doc)
    list(APPEND onboarder_packaging_outputs ${compressed})
endforeach()

# Debian documents: the copyright file and the changelog of this native package.
onboarder_gzip_configured(${onboarder_packaging_dir}/debian/changelog changelog compressed)
list(APPEND onboarder_packaging_outputs ${compressed})
install(FILES ${compressed} DESTINATION ${onboarder_docdir} COMPONENT doc)
install(FILES ${onboarder_packaging_dir}/debian/copyright DESTINATION ${onboarder_docdir} COMPONENT doc)
file(STRINGS ${onboarder_packaging_dir}/debian/changelog changelog_head LIMIT_COUNT 1)
if(NOT changelog_head MATCHES "^onboarder \\(${PROJECT_VERSION}\\) ")
    message(WARNING "packaging/debian/changelog does not start with version ${PROJECT_VERSION}: add an entry for it")
endif()

add_custom_target(onboarder_packaging_files ALL DEPENDS ${onboarder_packaging_outputs})

# udev: Nordic Semiconductor and SEGGER J-Link USB devices for the user at the seat, not for ModemManager.
# udev reads /usr/lib/udev/rules.d (and /etc/udev/rules.d), so this takes effect with the prefix /usr only.
install(FILES ${onboarder_packaging_dir}/udev/70-onboarder-nordic.rules
    DESTINATION lib/udev/rules.d COMPONENT runtime)

# CPack: one Debian package, "onboarder".
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME onboarder)
set(CPACK_PACKAGE_VENDOR "The Onboarder developers")
set(CPACK_PACKAGE_CONTACT "Onboarder developers <onboarder@example.invalid>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "onboard and monitor Azure IoT Hub devices")
# Extended description: lines under 80 characters, paragraphs separated by an empty line.
string(JOIN "\n" CPACK_PACKAGE_DESCRIPTION
    "Onboarder keeps the Azure IoT hubs you work with, registers devices in them"
    "and gives the devices keys and certificates. Connection strings and keys are"
    "kept in the system keychain (Secret Service) only."
    ""
    "It writes device credentials into nRF9160 cellular modems over USB and relays"
    "local sensors' MQTT messages to the hub, one hub session per device, through"
    "a durable outbox."
    ""
    "The package holds the desktop application (onboarder), its command-line"
    "companion for scripts and gateways (onboarder-cli), a local IoT Hub to train"
    "and test against (onboarder-sandbox), a simulated nRF9160 modem"
    "(onboarder-modem-sim), simulated sensors publishing MQTT telemetry"
    "(onboarder-sensor-sim) and a systemd unit for the headless relay (not"
    "enabled), which runs as the system user onboarder with a keyring of its"
    "own. A udev rule gives the user at the seat access to Nordic Thingy:91"
    "devices and the SEGGER J-Link of Nordic development kits, and keeps"
    "ModemManager away from their serial ports.")
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGE_CHECKSUM SHA256)
set(CPACK_SOURCE_GENERATOR "") # no source package; the Git repository is the source
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build/")

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE ${PROJECT_HOMEPAGE_URL})
set(CPACK_DEBIAN_COMPRESSION_TYPE xz)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
# Libraries linked: found by dpkg-shlibdeps. Loaded at run time, so added by hand: Qt's SQLite driver (the
# sandbox's registry), libsecret (qtkeychain dlopens it for the Secret Service), mosquitto (the sandbox's
# MQTT broker, which loads the sandbox plugin and runs the sensor simulator's broker).
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libqt6sql6-sqlite, libsecret-1-0, mosquitto")
# A Secret Service provider (there is no plaintext fallback; the headless relay's onboarder-keyring-session
# needs gnome-keyring and the D-Bus daemon and dbus-send), Qt's own German strings (dialog buttons), Wayland
# sessions.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS
    "gnome-keyring | kwalletmanager | keepassxc, dbus-daemon, dbus-bin, qt6-translations-l10n, qt6-wayland")
# The postinst makes the relay's system user (systemd-sysusers, or adduser without systemd) and its home.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA ${onboarder_packaging_dir}/debian/postinst)
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "libsecret-tools")

include(CPack)
