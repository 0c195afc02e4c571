// tokenizer.json / tokenizer_config.json of the character-level vocabulary (see char_vocab.h).
#include "core/problems/char_vocab.h"

#include <nlohmann/json.hpp>
#include <utility>

namespace headscope::problems {
namespace {

const char* const kSpecialNames[] = {"<pad>", "<bos>", "<eos>", "<pause>"};

}  // namespace

std::string char_tokenizer_json(bool thought_tokens) {
  nlohmann::ordered_json vocab = nlohmann::ordered_json::object();
  nlohmann::ordered_json added = nlohmann::ordered_json::array();
  for (int id = 0; id < 4; ++id) {
    vocab[kSpecialNames[id]] = id;
    added.push_back({{"id", id}, {"content", kSpecialNames[id]}, {"single_word", false}, {"lstrip", false},
                     {"rstrip", false}, {"normalized", false}, {"special", true}});
  }
  if (thought_tokens)
    for (const auto& [name, id] : {std::pair{"<bot>", kBotId}, std::pair{"<eot>", kEotId}})
      added.push_back({{"id", id}, {"content", name}, {"single_word", false}, {"lstrip", false},
                       {"rstrip", false}, {"normalized", false}, {"special", true}});
  vocab["\n"] = 4;
  for (int c = 32; c <= 126; ++c) vocab[std::string(1, static_cast<char>(c))] = c - 32 + 5;
  nlohmann::ordered_json bos_item = {{"SpecialToken", {{"id", "<bos>"}, {"type_id", 0}}}};
  nlohmann::ordered_json json = {
      {"version", "1.0"},
      {"truncation", nullptr},
      {"padding", nullptr},
      {"added_tokens", added},
      {"normalizer", nullptr},
      {"pre_tokenizer", nullptr},
      {"post_processor",
       {{"type", "TemplateProcessing"},
        {"single", {bos_item, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
        {"pair", {bos_item, {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}, {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
        {"special_tokens", {{"<bos>", {{"id", "<bos>"}, {"ids", {kBosId}}, {"tokens", {"<bos>"}}}}}}}},
      {"decoder", {{"type", "Fuse"}}},
      {"model",
       {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"continuing_subword_prefix", nullptr},
        {"end_of_word_suffix", nullptr}, {"fuse_unk", false}, {"byte_fallback", false}, {"ignore_merges", false},
        {"vocab", vocab}, {"merges", nlohmann::ordered_json::array()}}}};
  return json.dump(2) + "\n";
}

std::string char_tokenizer_config_json() {
  nlohmann::ordered_json json = {{"tokenizer_class", "PreTrainedTokenizerFast"},
                                 {"bos_token", "<bos>"},
                                 {"eos_token", "<eos>"},
                                 {"pad_token", "<pad>"},
                                 {"add_bos_token", true},
                                 {"add_eos_token", false},
                                 {"model_max_length", 512}};
  return json.dump(2) + "\n";
}

}  // namespace headscope::problems
