#pragma once

#include <QByteArray>
#include <QCoreApplication>
#include <QString>

namespace Onboarder {

// What a command typed by hand (the AT terminal, `modem at`) does, before it is sent: only reads, changes the
// modem (asked to be confirmed first), or carries a secret (refused: a key or PIN typed there would stay in a
// history, a scroll-back or argv).
struct AtCommandPolicy
{
    Q_DECLARE_TR_FUNCTIONS(AtCommandPolicy)

public:
    enum class Kind { Reads, Changes, CarriesSecret, NotAt };
    Kind kind = Kind::Reads;
    QString reason; // translated: what it changes, or why it is refused; empty for Reads

    static AtCommandPolicy of(const QByteArray &command);
    // The prefix of the command's information lines: "AT+CFUN?" → "+CFUN:"; empty for bare text answers ("AT+CGMI").
    static QByteArray answerPrefix(const QByteArray &command);
};

} // namespace Onboarder
