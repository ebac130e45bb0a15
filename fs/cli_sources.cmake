# Sources of the phrfs executable's command line (relative to fs/); included by fs/CMakeLists.txt.
# log.cc belongs to the phrfs_fs library (the vault logs through it too). store_setup.cc and
# upgrade.cc stay in fs/ because they are about the store, not the command line (tests/fs
# compiles store_setup.cc directly).
set(PHRFS_CLI_SOURCES
  main.cc
  store_setup.cc
  upgrade.cc
  cli/cli.cc
  cli/command_util.cc
  cli/daemon.cc
  cli/exit_codes.cc
  cli/init_command.cc
  cli/mount_command.cc
  cli/mountinfo.cc
  cli/passphrase.cc
  cli/passwd_command.cc
  cli/umount_command.cc
  cli/upgrade_command.cc)
