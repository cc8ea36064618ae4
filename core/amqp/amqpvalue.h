#pragma once

#include <QByteArray>
#include <QMetaType>
#include <QVariant>

#include <utility>

struct pn_data_t;

namespace Onboarder {

// AMQP 1.0 values as QVariants, for the parts of the type system IoT Hub and Event Hubs use.
//   null ↔ invalid QVariant, boolean ↔ bool, (u)byte/(u)short/(u)int ↔ int/uint, (u)long ↔ qint64/quint64,
//   float/double ↔ double, timestamp ↔ QDateTime (UTC, ms), uuid ↔ QUuid, binary ↔ QByteArray,
//   string ↔ QString, symbol ↔ AmqpSymbol, list and array ↔ QVariantList, map ↔ AmqpMap (keys keep their type),
//   described ↔ AmqpDescribed.
// Decoding accepts everything Proton decodes; what it does not know (decimal, char) becomes an invalid QVariant.

struct AmqpSymbol
{
    QByteArray name;
    friend bool operator==(const AmqpSymbol &, const AmqpSymbol &) = default;
};

struct AmqpDescribed
{
    QVariant descriptor; // an AmqpSymbol or a quint64 code
    QVariant value; // not an AmqpDescribed itself: Proton decodes that wrongly (Amqp::decodedAsSent)
};

// A map whose keys keep their AMQP type (annotations and filters use symbol keys, application properties
// string keys); order is kept as on the wire.
struct AmqpMap
{
    QList<std::pair<QVariant, QVariant>> entries;

    // The value under a key given as text, whether the key is a string or a symbol; invalid if absent.
    QVariant value(const QString &key) const;
    void insertSymbol(const QByteArray &key, const QVariant &value)
    {
        entries.append({QVariant::fromValue(AmqpSymbol{key}), value});
    }
    void insertString(const QString &key, const QVariant &value) { entries.append({key, value}); }
    // Keys as text (strings and symbols alike), for maps whose consumer does not care.
    QVariantMap toVariantMap() const;
    static AmqpMap fromStrings(const QVariantMap &map);
    static AmqpMap fromSymbols(const QVariantMap &map);
};

namespace Amqp {

// Appends one value at the data's current position.
void put(pn_data_t *data, const QVariant &value);
// Reads the value at the data's current position (after pn_data_next); nested values are read whole.
QVariant get(pn_data_t *data);
// The whole content of a pn_data_t holding one value (rewinds it); invalid when empty.
QVariant read(pn_data_t *data);
// Replaces the content of a pn_data_t with one value (an invalid QVariant leaves it empty).
void write(pn_data_t *data, const QVariant &value);
// Whether what Proton decoded into a pn_data_t is what was sent. Proton 0.37 decodes a described value whose value
// is itself described (valid AMQP: a descriptor, then a described value) into a wrong tree: what follows it in its
// list or map moves into it or into the container, so that map keys become values and entries are lost. False for
// such a tree, and for a described value that is not exactly a descriptor and a value.
bool decodedAsSent(pn_data_t *data);

// The text of a string or symbol value, else an empty string.
QString text(const QVariant &value);
AmqpSymbol symbol(const char *name);

} // namespace Amqp

} // namespace Onboarder

Q_DECLARE_METATYPE(Onboarder::AmqpSymbol)
Q_DECLARE_METATYPE(Onboarder::AmqpDescribed)
Q_DECLARE_METATYPE(Onboarder::AmqpMap)
