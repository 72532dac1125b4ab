// See the header.
#include "ir/attribute_copy.h"

#include "core/error.h"
#include "ir/graph.h"

namespace effdl::ir {

Attribute copyWithoutSubgraphs(const Attribute& a) {
  if (a.g || !a.graphs.empty())
    throwInternal("attribute '" + a.name + "' holds a subgraph; it cannot be copied without one");
  Attribute c;
  c.name = a.name;
  c.type = a.type;
  c.refAttrName = a.refAttrName;
  c.docString = a.docString;
  c.f = a.f;
  c.i = a.i;
  c.s = a.s;
  c.t = a.t;
  c.floats = a.floats;
  c.ints = a.ints;
  c.strings = a.strings;
  c.tensors = a.tensors;
  c.opaque = a.opaque;
  return c;
}

}  // namespace effdl::ir
