#include "smemu/model/error.h"

namespace smemu {

std::string_view aws_name(ErrorCode code) {
  switch (code) {
#define SMEMU_ERROR(c, name, status) \
  case ErrorCode::c:                 \
    return name;
#include "smemu/model/errors.def"
#undef SMEMU_ERROR
  }
  return "InternalServiceError";
}

int http_status(ErrorCode code) {
  switch (code) {
#define SMEMU_ERROR(c, name, status) \
  case ErrorCode::c:                 \
    return status;
#include "smemu/model/errors.def"
#undef SMEMU_ERROR
  }
  return 500;
}

}  // namespace smemu
