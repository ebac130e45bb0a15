# Sources of the phrfs executable's command line (relative to fs/); included by fs/CMakeLists.txt.
# log.cc belongs to the phrfs_fs library (the vault logs through it too). store_setup.cc stays in
# fs/ because it is about the store, not the command line (tests/fs compiles it directly).
set(PHRFS_CLI_SOURCES
  main.cc
  store_setup.cc
  cli/cli.cc
  cli/command_util.cc
  cli/daemon.cc
  cli/exit_codes.cc
  cli/init_command.cc
  cli/mount_command.cc
  cli/mountinfo.cc
  cli/passphrase.cc
  cli/passwd_command.cc
  cli/umount_command.cc)
