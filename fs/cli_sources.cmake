# Sources of the phrfs executable's command line (relative to fs/); included by fs/CMakeLists.txt.
# log.cc, store_setup.cc and upgrade.cc belong to the phrfs_fs library: they are about the
# store, not the command line, and their tests link the library.
set(PHRFS_CLI_SOURCES
  main.cc
  cli/audit_command.cc
  cli/cli.cc
  cli/command_util.cc
  cli/daemon.cc
  cli/exit_codes.cc
  cli/identity_command.cc
  cli/identity_loader.cc
  cli/init_command.cc
  cli/mount_command.cc
  cli/mountinfo.cc
  cli/passphrase.cc
  cli/passwd_command.cc
  cli/share_command.cc
  cli/status_command.cc
  cli/status_file.cc
  cli/status_reporter.cc
  cli/umount_command.cc
  cli/upgrade_command.cc)
