# Sources of the phrfs executable's command line (relative to fs/); included by fs/CMakeLists.txt.
# log.cc belongs to the phrfs_fs library (the vault logs through it too).
set(PHRFS_CLI_SOURCES main.cc cli.cc passphrase.cc)
