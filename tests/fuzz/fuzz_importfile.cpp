// The files `device import` reads (a person's spreadsheet export, or a file from anyone): CSV through Csv::parse
// and the import rows on top of it, and JSON Lines.
// Promises: nothing crashes; CSV records written back with every field quoted read back as the same records; every
// row an import file yields has a valid device id, a known auth and status, and appears once.
#include "common/csv.h"
#include "fuzzcheck.h"
#include "hub/deviceimport.h"
#include "hub/identifiers.h"

#include <QSet>

#include <cstddef>
#include <cstdint>

using namespace Onboarder;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArrayView input(reinterpret_cast<const char *>(data), qsizetype(size));

    if (const auto records = Csv::parse(input, 10000)) {
        QStringList lines;
        for (const Csv::Record &record : *records) {
            FUZZ_CHECK(record.line >= 1);
            QStringList fields;
            for (QString field : record.fields)
                fields.append(u'"' + field.replace(QStringLiteral("\""), QStringLiteral("\"\"")) + u'"');
            lines.append(fields.join(u','));
        }
        const auto again = Csv::parse(lines.join(u'\n').toUtf8(), 10000);
        FUZZ_CHECK(again.has_value());
        FUZZ_CHECK(again->size() == records->size());
        for (qsizetype i = 0; i < records->size(); ++i)
            FUZZ_CHECK(again->at(i).fields == records->at(i).fields);
    }

    for (const auto format : {DeviceImport::Format::Csv, DeviceImport::Format::JsonLines}) {
        const auto file = DeviceImport::read(input, format, 10000);
        if (!file)
            continue;
        QSet<QString> ids;
        for (const ImportRow &row : file->rows) {
            FUZZ_CHECK(Identifiers::validateDeviceId(row.id).has_value());
            FUZZ_CHECK(!ids.contains(row.id));
            ids.insert(row.id);
            FUZZ_CHECK(row.status == QLatin1String("enabled") || row.status == QLatin1String("disabled"));
            FUZZ_CHECK(row.authType == QLatin1String("sas") || row.authType == QLatin1String("selfSigned")
                || row.authType == QLatin1String("certificateAuthority"));
            FUZZ_CHECK(row.authType != QLatin1String("selfSigned") || row.thumbprint.size() == 40
                || row.thumbprint.size() == 64);
            (void)row.toBulkJson();
        }
        for (const ImportProblem &problem : file->problems)
            FUZZ_CHECK(!problem.message.isEmpty() && !problem.code.isEmpty());
        (void)DeviceImport::reportCsv(file->problems);
    }
    return 0;
}
