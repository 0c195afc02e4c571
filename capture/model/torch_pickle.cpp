// The restricted pickle machine of torch_pickle.h. Sections: values; the allowed globals; the opcode
// loop (a flat loop over the bytes with an explicit stack, no recursion); flattening the result dict.
// Bounds: every length is checked against the bytes left, the stack, the memo and the containers'
// total size are capped, and nested dicts are flattened to a bounded depth (cycles end there).
// Containers live in the machine's arena and values point into it, so a container that holds itself
// (memo + SETITEM, found by the fuzzer) is no reference cycle: the arena frees everything at the end.
#include "capture/model/torch_pickle.h"

#include <cstring>
#include <memory>
#include <unordered_map>

namespace headscope::model {
namespace {

constexpr std::size_t kMaxStack = 1u << 20;         // values on the stack at once
constexpr std::size_t kMaxContainerItems = 1u << 22;  // containers and their items, all together
constexpr int kMaxDictDepth = 16;                   // nesting of dicts in the result
constexpr int kMaxRank = 64;

// ---- values ------------------------------------------------------------------------------------------

enum class Global { ordered_dict, rebuild_tensor_v2, rebuild_parameter, rebuild_parameter_with_state, storage_type };

struct Value;
struct Dict {
  std::vector<std::pair<Value, Value>> items;
};

struct Value {
  enum class Kind { none, boolean, integer, floating, string, tuple, list, dict, global, storage, tensor };
  Kind kind = Kind::none;
  std::int64_t integer = 0;  // integer, boolean
  std::string text;          // string; storage key
  std::vector<Value>* items = nullptr;  // tuple, list (owned by the machine's arena)
  Dict* dict = nullptr;                 // dict (owned by the machine's arena)
  Global global = Global::ordered_dict;
  StDtype dtype = StDtype::f32;  // storage_type global, storage
  std::shared_ptr<PtTensorInfo> tensor;
};

const char* kind_name(Value::Kind kind) {
  static const char* const names[] = {"None", "bool", "int", "float", "str", "tuple", "list", "dict", "global",
                                      "storage", "tensor"};
  return names[static_cast<int>(kind)];
}

// ---- the allowed globals -------------------------------------------------------------------------------

struct AllowedGlobal {
  const char* module;
  const char* name;
  Global global;
  StDtype dtype;
};

constexpr AllowedGlobal kAllowedGlobals[] = {
    {"collections", "OrderedDict", Global::ordered_dict, StDtype::f32},
    {"torch._utils", "_rebuild_tensor_v2", Global::rebuild_tensor_v2, StDtype::f32},
    {"torch._utils", "_rebuild_parameter", Global::rebuild_parameter, StDtype::f32},
    {"torch._utils", "_rebuild_parameter_with_state", Global::rebuild_parameter_with_state, StDtype::f32},
    {"torch", "FloatStorage", Global::storage_type, StDtype::f32},
    {"torch", "DoubleStorage", Global::storage_type, StDtype::f64},
    {"torch", "HalfStorage", Global::storage_type, StDtype::f16},
    {"torch", "BFloat16Storage", Global::storage_type, StDtype::bf16},
    {"torch", "LongStorage", Global::storage_type, StDtype::i64},
    {"torch", "IntStorage", Global::storage_type, StDtype::i32},
    {"torch", "ShortStorage", Global::storage_type, StDtype::i16},
    {"torch", "CharStorage", Global::storage_type, StDtype::i8},
    {"torch", "ByteStorage", Global::storage_type, StDtype::u8},
    {"torch", "BoolStorage", Global::storage_type, StDtype::bool_},
};

// ---- the machine ---------------------------------------------------------------------------------------

class Machine {
 public:
  Machine(const std::uint8_t* bytes, std::size_t size, const std::string& origin)
      : bytes_(bytes), size_(size), origin_(origin) {}

  Value run();
  PtStateDict& result() { return result_; }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw ModelError(origin_ + ": data.pkl byte " + std::to_string(opcode_at_) + ": " + what);
  }
  [[noreturn]] void refuse(const std::string& what) const {
    fail("refused " + what + " (only tensors, dicts, lists, tuples, numbers and strings are read; loading a "
         "checkpoint never runs code from it)");
  }
  const std::uint8_t* take(std::uint64_t count) {
    if (count > size_ - at_) fail("truncated (needs " + std::to_string(count) + " more bytes)");
    const auto* start = bytes_ + at_;
    at_ += static_cast<std::size_t>(count);
    return start;
  }
  std::uint64_t take_le(int count) {
    const auto* p = take(static_cast<std::uint64_t>(count));
    std::uint64_t value = 0;
    for (int i = count - 1; i >= 0; --i) value = (value << 8) | p[i];
    return value;
  }
  std::string take_line() {
    const void* newline = std::memchr(bytes_ + at_, '\n', size_ - at_);
    if (!newline) fail("a GLOBAL line has no end");
    const auto length = static_cast<std::size_t>(static_cast<const std::uint8_t*>(newline) - (bytes_ + at_));
    std::string line(reinterpret_cast<const char*>(take(length)), length);
    take(1);
    return line;
  }
  void push(Value value) {
    if (stack_.size() >= kMaxStack) fail("more than " + std::to_string(kMaxStack) + " values on the stack");
    stack_.push_back(std::move(value));
  }
  Value pop() {
    if (stack_.size() <= frame_floor()) fail("stack underflow");
    Value value = std::move(stack_.back());
    stack_.pop_back();
    return value;
  }
  Value& top() {
    if (stack_.size() <= frame_floor()) fail("stack underflow");
    return stack_.back();
  }
  std::size_t frame_floor() const { return marks_.empty() ? 0 : marks_.back(); }
  std::vector<Value> pop_to_mark() {
    if (marks_.empty()) fail("no MARK to pop to");
    const auto mark = marks_.back();
    marks_.pop_back();
    std::vector<Value> items(std::make_move_iterator(stack_.begin() + static_cast<std::ptrdiff_t>(mark)),
                             std::make_move_iterator(stack_.end()));
    stack_.resize(mark);
    return items;
  }
  void count_items(std::size_t added) {
    items_total_ += added;
    if (items_total_ > kMaxContainerItems) fail("containers hold more than " + std::to_string(kMaxContainerItems) + " items");
  }
  Value make_sequence(Value::Kind kind, std::vector<Value> items) {
    count_items(items.size() + 1);  // its items and its arena slot
    sequences_.push_back(std::make_unique<std::vector<Value>>(std::move(items)));
    Value value;
    value.kind = kind;
    value.items = sequences_.back().get();
    return value;
  }
  Value make_dict() {
    count_items(1);  // its arena slot
    dicts_.push_back(std::make_unique<Dict>());
    Value value;
    value.kind = Value::Kind::dict;
    value.dict = dicts_.back().get();
    return value;
  }
  void set_items(Value& dict, std::vector<Value>& flat) {
    if (dict.kind != Value::Kind::dict) fail("SETITEM(S) on a " + std::string(kind_name(dict.kind)));
    if (flat.size() % 2) fail("SETITEMS with an odd number of values");
    count_items(flat.size() / 2);
    for (std::size_t i = 0; i < flat.size(); i += 2) dict.dict->items.emplace_back(std::move(flat[i]), std::move(flat[i + 1]));
  }
  void append_items(Value& list, std::vector<Value>& items) {
    if (list.kind != Value::Kind::list) fail("APPEND(S) on a " + std::string(kind_name(list.kind)));
    count_items(items.size());
    for (auto& item : items) list.items->push_back(std::move(item));
  }
  void memo_put(std::uint64_t index) { memo_[index] = top(); }
  Value memo_get(std::uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) fail("memo entry " + std::to_string(index) + " was never stored");
    return it->second;
  }
  Value global(const std::string& module, const std::string& name);
  Value reduce(const Value& callable, const Value& args);
  Value persistent_storage(const Value& pid);
  std::int64_t as_int(const Value& value, const char* what) const {
    if (value.kind != Value::Kind::integer && value.kind != Value::Kind::boolean)
      fail(std::string(what) + " is a " + kind_name(value.kind) + ", not an int");
    return value.integer;
  }
  std::vector<std::int64_t> as_int_tuple(const Value& value, const char* what) const {
    if (value.kind != Value::Kind::tuple) fail(std::string(what) + " is a " + kind_name(value.kind) + ", not a tuple");
    if (value.items->size() > kMaxRank) fail(std::string(what) + " has more than " + std::to_string(kMaxRank) + " dimensions");
    std::vector<std::int64_t> ints;
    for (const auto& item : *value.items) ints.push_back(as_int(item, what));
    return ints;
  }

  const std::uint8_t* bytes_;
  std::size_t size_;
  std::size_t at_ = 0, opcode_at_ = 0;
  const std::string& origin_;
  std::vector<Value> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, Value> memo_;
  std::size_t items_total_ = 0;
  std::vector<std::unique_ptr<std::vector<Value>>> sequences_;  // the arena of tuples and lists
  std::vector<std::unique_ptr<Dict>> dicts_;                    // the arena of dicts
  PtStateDict result_;
};

Value Machine::global(const std::string& module, const std::string& name) {
  for (const auto& allowed : kAllowedGlobals)
    if (module == allowed.module && name == allowed.name) {
      Value value;
      value.kind = Value::Kind::global;
      value.global = allowed.global;
      value.dtype = allowed.dtype;
      return value;
    }
  refuse("global " + module + "." + name);
}

Value Machine::persistent_storage(const Value& pid) {
  if (pid.kind != Value::Kind::tuple || pid.items->size() != 5) fail("a persistent id is not a 5-tuple ('storage', type, key, location, numel)");
  const auto& parts = *pid.items;
  if (parts[0].kind != Value::Kind::string || parts[0].text != "storage") fail("a persistent id is not a storage");
  if (parts[1].kind != Value::Kind::global || parts[1].global != Global::storage_type)
    fail("a persistent id's storage type is not a torch.*Storage class");
  if (parts[2].kind != Value::Kind::string || parts[2].text.empty() || parts[2].text.find('/') != std::string::npos ||
      parts[2].text.find("..") != std::string::npos)
    fail("a persistent id's storage key is not a plain name");
  const auto count = as_int(parts[4], "a storage's element count");
  if (count < 0) fail("a storage has a negative element count");
  auto [it, inserted] = result_.storages.emplace(parts[2].text, PtStorageInfo{parts[1].dtype, count});
  if (!inserted && (it->second.dtype != parts[1].dtype || it->second.element_count != count))
    fail("storage '" + parts[2].text + "' is declared twice with different types or sizes");
  Value value;
  value.kind = Value::Kind::storage;
  value.text = parts[2].text;
  value.dtype = parts[1].dtype;
  return value;
}

Value Machine::reduce(const Value& callable, const Value& args) {
  if (callable.kind != Value::Kind::global) refuse("REDUCE on a " + std::string(kind_name(callable.kind)));
  if (args.kind != Value::Kind::tuple) fail("REDUCE arguments are not a tuple");
  const auto& arg = *args.items;
  switch (callable.global) {
    case Global::ordered_dict:
      if (!arg.empty()) refuse("OrderedDict called with arguments");
      return make_dict();
    case Global::rebuild_tensor_v2: {
      // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
      if (arg.size() < 6 || arg.size() > 7) fail("_rebuild_tensor_v2 takes 6 or 7 arguments, got " + std::to_string(arg.size()));
      if (arg[0].kind != Value::Kind::storage) fail("_rebuild_tensor_v2's first argument is not a storage");
      auto tensor = std::make_shared<PtTensorInfo>();
      tensor->dtype = arg[0].dtype;
      tensor->storage_key = arg[0].text;
      tensor->storage_offset = as_int(arg[1], "a tensor's storage offset");
      tensor->shape = as_int_tuple(arg[2], "a tensor's size");
      tensor->strides = as_int_tuple(arg[3], "a tensor's stride");
      if (tensor->shape.size() != tensor->strides.size()) fail("a tensor's size and stride differ in rank");
      Value value;
      value.kind = Value::Kind::tensor;
      value.tensor = std::move(tensor);
      return value;
    }
    case Global::rebuild_parameter:
    case Global::rebuild_parameter_with_state:
      if (arg.empty() || arg[0].kind != Value::Kind::tensor) fail("_rebuild_parameter's first argument is not a tensor");
      return arg[0];
    case Global::storage_type: break;
  }
  refuse("REDUCE on a storage class");
}

Value Machine::run() {
  while (true) {
    opcode_at_ = at_;
    const auto opcode = *take(1);
    switch (opcode) {
      case 0x80: take(1); break;  // PROTO n
      case 0x95: take(8); break;  // FRAME length (frames are read inline)
      case '.': {                 // STOP
        Value result = pop();
        if (!stack_.empty() || !marks_.empty()) fail("STOP with values left on the stack");
        return result;
      }
      case '(': marks_.push_back(stack_.size()); break;  // MARK
      case '}': push(make_dict()); break;                // EMPTY_DICT
      case ']': push(make_sequence(Value::Kind::list, {})); break;
      case ')': push(make_sequence(Value::Kind::tuple, {})); break;
      case 't': push(make_sequence(Value::Kind::tuple, pop_to_mark())); break;  // TUPLE
      case 'l': push(make_sequence(Value::Kind::list, pop_to_mark())); break;   // LIST
      case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
        std::vector<Value> items(static_cast<std::size_t>(opcode - 0x84));
        for (auto it = items.rbegin(); it != items.rend(); ++it) *it = pop();
        push(make_sequence(Value::Kind::tuple, std::move(items)));
        break;
      }
      case 'N': push(Value{}); break;
      case 0x88: case 0x89: {  // NEWTRUE, NEWFALSE
        Value value;
        value.kind = Value::Kind::boolean;
        value.integer = opcode == 0x88;
        push(value);
        break;
      }
      case 'J': case 'K': case 'M': {  // BININT (int32), BININT1 (uint8), BININT2 (uint16)
        Value value;
        value.kind = Value::Kind::integer;
        value.integer = opcode == 'J' ? static_cast<std::int32_t>(take_le(4)) : static_cast<std::int64_t>(take_le(opcode == 'K' ? 1 : 2));
        push(value);
        break;
      }
      case 0x8a: {  // LONG1: n bytes of two's complement
        const auto count = static_cast<int>(*take(1));
        if (count > 8) fail("LONG1 of " + std::to_string(count) + " bytes does not fit 64 bits");
        std::uint64_t raw = count ? take_le(count) : 0;
        if (count > 0 && count < 8 && (raw >> (8 * count - 1)) & 1u) raw |= ~std::uint64_t{0} << (8 * count);
        Value value;
        value.kind = Value::Kind::integer;
        value.integer = static_cast<std::int64_t>(raw);
        push(value);
        break;
      }
      case 'G': {  // BINFLOAT (big-endian double); the value is not needed
        take(8);
        Value value;
        value.kind = Value::Kind::floating;
        push(value);
        break;
      }
      case 'X': case 0x8c: case 0x8d: {  // BINUNICODE (u32 length), SHORT_BINUNICODE (u8), BINUNICODE8 (u64)
        const auto length = take_le(opcode == 'X' ? 4 : opcode == 0x8c ? 1 : 8);
        const auto* text = take(length);
        Value value;
        value.kind = Value::Kind::string;
        value.text.assign(reinterpret_cast<const char*>(text), static_cast<std::size_t>(length));
        push(std::move(value));
        break;
      }
      case 'q': memo_put(take_le(1)); break;  // BINPUT
      case 'r': memo_put(take_le(4)); break;  // LONG_BINPUT
      case 0x94: memo_put(memo_.size()); break;  // MEMOIZE
      case 'h': push(memo_get(take_le(1))); break;  // BINGET
      case 'j': push(memo_get(take_le(4))); break;  // LONG_BINGET
      case 's': {  // SETITEM
        std::vector<Value> pair(2);
        pair[1] = pop();
        pair[0] = pop();
        set_items(top(), pair);
        break;
      }
      case 'u': {  // SETITEMS
        auto flat = pop_to_mark();
        set_items(top(), flat);
        break;
      }
      case 'a': {  // APPEND
        std::vector<Value> one(1);
        one[0] = pop();
        append_items(top(), one);
        break;
      }
      case 'e': {  // APPENDS
        auto items = pop_to_mark();
        append_items(top(), items);
        break;
      }
      case 'c': {  // GLOBAL module\nname\n
        auto module = take_line();
        auto name = take_line();
        push(global(module, name));
        break;
      }
      case 0x93: {  // STACK_GLOBAL
        const Value name = pop(), module = pop();
        if (module.kind != Value::Kind::string || name.kind != Value::Kind::string) fail("STACK_GLOBAL of non-strings");
        push(global(module.text, name.text));
        break;
      }
      case 'R': {  // REDUCE
        const Value args = pop(), callable = pop();
        push(reduce(callable, args));
        break;
      }
      case 'Q': push(persistent_storage(pop())); break;  // BINPERSID
      case 'b': {  // BUILD: only the attributes torch pickles on an OrderedDict (_metadata) or a parameter
        const Value state = pop();
        const auto& target = top();
        if (target.kind != Value::Kind::dict && target.kind != Value::Kind::tensor)
          refuse("BUILD on a " + std::string(kind_name(target.kind)));
        (void)state;
        break;
      }
      case '0': pop(); break;  // POP
      case '1': pop_to_mark(); break;  // POP_MARK
      case '2': push(top()); break;  // DUP
      default: {
        static const char hex[] = "0123456789abcdef";
        const std::string code = std::string("0x") + hex[opcode >> 4] + hex[opcode & 15];
        const bool printable = opcode >= 0x20 && opcode < 0x7f;
        refuse("pickle opcode " + code + (printable ? std::string(" ('") + static_cast<char>(opcode) + "')" : ""));
      }
    }
  }
}

// ---- flattening the result dict ------------------------------------------------------------------------

void flatten(const Value& dict, const std::string& prefix, int depth, PtStateDict& out, const std::string& origin) {
  if (depth > kMaxDictDepth) throw ModelError(origin + ": data.pkl nests dicts deeper than " + std::to_string(kMaxDictDepth));
  for (const auto& [key, value] : dict.dict->items) {
    if (key.kind != Value::Kind::string) continue;  // e.g. optimizer state keyed by ints: not weights
    const auto name = prefix + key.text;
    if (value.kind == Value::Kind::tensor) {
      out.tensors.push_back(*value.tensor);
      out.tensors.back().name = name;
    } else if (value.kind == Value::Kind::dict) {
      flatten(value, name + ".", depth + 1, out, origin);
    }
  }
}

}  // namespace

std::int64_t PtTensorInfo::element_count() const {
  for (auto extent : shape)
    if (extent == 0) return 0;
  std::int64_t count = 1;
  for (auto extent : shape) count *= extent;
  return count;
}

PtStateDict read_state_dict_pickle(const std::uint8_t* bytes, std::size_t size, const std::string& origin) {
  Machine machine(bytes, size, origin);
  const Value result = machine.run();
  if (result.kind != Value::Kind::dict)
    throw ModelError(origin + ": data.pkl holds a " + std::string(kind_name(result.kind)) + ", not a state dict");
  auto& state = machine.result();
  flatten(result, "", 0, state, origin);
  return std::move(state);
}

}  // namespace headscope::model
