# Installs /etc/dtrust/dtrustd.conf and dtrustd.service, and for the prefix
# /usr the lintian overrides (install(SCRIPT) from
# deploy/CMakeLists.txt, which sets dtrust_deploy_dir, dtrust_staging_dir and
# dtrust_sbindir first). Runs at install time, where CMAKE_INSTALL_PREFIX is
# the prefix really installed into and file(INSTALL) adds $DESTDIR.
if(CMAKE_INSTALL_PREFIX STREQUAL "/usr")
  set(sysconfdir "/etc")
  set(unitdir "/lib/systemd/system")
  # The package's lintian overrides (deploy/debian/lintian-overrides).
  file(INSTALL "${dtrust_deploy_dir}/debian/lintian-overrides"
       DESTINATION "/usr/share/lintian/overrides" RENAME dtrust
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
else()
  set(sysconfdir "${CMAKE_INSTALL_PREFIX}/etc")
  set(unitdir "${CMAKE_INSTALL_PREFIX}/lib/systemd/system")
endif()

# A config file already there is the admin's: never overwritten.
if(EXISTS "$ENV{DESTDIR}${sysconfdir}/dtrust/dtrustd.conf")
  message(STATUS "Keeping: $ENV{DESTDIR}${sysconfdir}/dtrust/dtrustd.conf")
else()
  file(INSTALL "${dtrust_deploy_dir}/dtrustd.conf"
       DESTINATION "${sysconfdir}/dtrust"
       PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endif()

# deploy/systemd/dtrustd.service runs /usr/local/sbin/dtrustd (what
# deploy/run-dtrustd.sh installs); the installed unit's ExecStart= lines (and
# the drop-in example's) run this prefix's.
file(READ "${dtrust_deploy_dir}/systemd/dtrustd.service" unit)
string(REGEX REPLACE "(ExecStart=)/usr/local/sbin/dtrustd"
       "\\1${CMAKE_INSTALL_PREFIX}/${dtrust_sbindir}/dtrustd" unit "${unit}")
file(MAKE_DIRECTORY "${dtrust_staging_dir}/systemd")
file(WRITE "${dtrust_staging_dir}/systemd/dtrustd.service" "${unit}")
file(INSTALL "${dtrust_staging_dir}/systemd/dtrustd.service"
     DESTINATION "${unitdir}"
     PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
