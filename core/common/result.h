#pragma once

#include <QString>

#include <expected>

namespace Onboarder {

// What kind of failure this is. The CLI maps each kind to its documented exit code;
// the GUI uses it to choose how to present the failure.
enum class ErrorKind {
    InvalidInput, // the user gave us something malformed
    NotFound, // the thing asked for does not exist
    Conflict, // exists already, or a precondition (ETag, state) failed
    AuthRefused, // credentials rejected
    Network, // connection failed, timed out, or the peer went away
    Device, // the modem answered an error
    Keychain, // the OS keychain is unavailable or refused
    Cancelled, // the user cancelled
    Internal, // a bug or an unexpected state
};

// A failure: a stable machine code (for scripts and tests) and a translated sentence for a person.
struct Error
{
    ErrorKind kind = ErrorKind::Internal;
    QString code; // e.g. "MissingHostName", "DeviceNotFound"
    QString message; // translated, complete sentence; never contains a secret

    friend bool operator==(const Error &, const Error &) = default;
};

template<typename T> using Result = std::expected<T, Error>;

inline std::unexpected<Error> fail(ErrorKind kind, const QString &code, const QString &message)
{
    return std::unexpected(Error{kind, code, message});
}

} // namespace Onboarder
