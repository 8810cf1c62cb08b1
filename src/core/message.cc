#include "courier/message.h"

namespace courier {
namespace {

std::string WithLabel(std::string_view type, std::string_view label) {
  std::string out(type);
  if (!label.empty()) out.append(".").append(label);
  return out;
}

}  // namespace

MessageAttribute MessageAttribute::String(std::string value, std::string_view label) {
  return {.data_type = WithLabel("String", label), .string_value = std::move(value)};
}

MessageAttribute MessageAttribute::Number(std::string value, std::string_view label) {
  return {.data_type = WithLabel("Number", label), .string_value = std::move(value)};
}

MessageAttribute MessageAttribute::Binary(std::string bytes, std::string_view label) {
  return {.data_type = WithLabel("Binary", label), .binary_value = std::move(bytes)};
}

std::string_view MessageAttribute::base_type() const {
  std::string_view type = data_type;
  return type.substr(0, type.find('.'));
}

}  // namespace courier
