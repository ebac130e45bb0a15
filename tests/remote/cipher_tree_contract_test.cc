// Runs the CipherTree contract suite against the direct tree on a temporary directory and the
// object tree over the in-memory and the local-directory stores.
#include <memory>

#include "remote/local/direct_tree.h"
#include "remote/local_store.h"
#include "remote/memory_store.h"
#include "remote/object_tree.h"
#include "tests/remote/cipher_tree_contract.h"
#include "tests/remote/temp_dir.h"

namespace phrfs::remote::testing {

// Named (not anonymous) so CTest's test names stay readable.

class DirectTreeHarness {
 public:
  Status SetUp() {
    if (!dir_.ok()) return Status::IoError("mkdtemp failed");
    auto tree = DirectTree::Open(dir_.path());
    if (!tree.ok()) return tree.status();
    tree_ = std::move(tree).value();
    return Status::Ok();
  }
  CipherTree& tree() { return *tree_; }

 private:
  TempDir dir_;  // outlives tree_: members are destroyed in reverse order
  std::unique_ptr<DirectTree> tree_;
};

class ObjectTreeOverMemoryHarness {
 public:
  Status SetUp() { return Status::Ok(); }
  CipherTree& tree() { return tree_; }

 private:
  ObjectTree tree_{std::make_shared<MemoryStore>()};
};

class ObjectTreeOverLocalHarness {
 public:
  Status SetUp() {
    if (!dir_.ok()) return Status::IoError("mkdtemp failed");
    auto store = LocalStore::Open(dir_.path());
    if (!store.ok()) return store.status();
    tree_ = std::make_unique<ObjectTree>(std::shared_ptr<ObjectStore>(std::move(store).value()));
    return Status::Ok();
  }
  CipherTree& tree() { return *tree_; }

 private:
  TempDir dir_;
  std::unique_ptr<ObjectTree> tree_;
};

INSTANTIATE_TYPED_TEST_SUITE_P(Direct, CipherTreeContractTest, DirectTreeHarness);
INSTANTIATE_TYPED_TEST_SUITE_P(ObjectOverMemory, CipherTreeContractTest,
                               ObjectTreeOverMemoryHarness);
INSTANTIATE_TYPED_TEST_SUITE_P(ObjectOverLocal, CipherTreeContractTest,
                               ObjectTreeOverLocalHarness);

}  // namespace phrfs::remote::testing
