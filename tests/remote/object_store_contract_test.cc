// Runs the ObjectStore contract suite against the in-memory and local-directory stores.
#include <memory>

#include "remote/local_store.h"
#include "remote/memory_store.h"
#include "tests/remote/object_store_contract.h"
#include "tests/remote/temp_dir.h"

namespace phrfs::remote::testing {

// Named (not anonymous) so CTest's test names stay readable.

class MemoryHarness {
 public:
  Status SetUp() { return Status::Ok(); }
  ObjectStore& store() { return store_; }

 private:
  MemoryStore store_;
};

class LocalHarness {
 public:
  Status SetUp() {
    if (!dir_.ok()) return Status::IoError("mkdtemp failed");
    auto store = LocalStore::Open(dir_.path());
    if (!store.ok()) return store.status();
    store_ = std::move(store).value();
    return Status::Ok();
  }
  ObjectStore& store() { return *store_; }

 private:
  TempDir dir_;  // outlives store_: members are destroyed in reverse order
  std::unique_ptr<LocalStore> store_;
};

INSTANTIATE_TYPED_TEST_SUITE_P(Memory, ObjectStoreContractTest, MemoryHarness);
INSTANTIATE_TYPED_TEST_SUITE_P(Local, ObjectStoreContractTest, LocalHarness);

}  // namespace phrfs::remote::testing
