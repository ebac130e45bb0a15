// Runs the CipherTree contract suite against the direct tree on a temporary directory.
#include <memory>

#include "remote/local/direct_tree.h"
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

INSTANTIATE_TYPED_TEST_SUITE_P(Direct, CipherTreeContractTest, DirectTreeHarness);

}  // namespace phrfs::remote::testing
