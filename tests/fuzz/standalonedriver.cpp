// The driver of a libFuzzer target (a file that defines LLVMFuzzerTestOneInput) in the builds made with GCC,
// where libFuzzer is not available: the ci, dev and asan suites. It is not coverage-guided; it runs every
// input of the seed corpus, then a number of inputs mutated from it (the kinds of mutation libFuzzer makes
// most: bytes flipped, set, inserted, erased and duplicated, corpus entries spliced, dictionary words put
// in), from a fixed seed so that a run can be repeated. The fuzz preset (scripts/fuzz) links the same
// targets with libFuzzer itself instead.
//
// Usage: NAME [--runs N] [--seed S] [--max-len BYTES] [--dict FILE] CORPUS_DIR_OR_FILE...
// An input that crashes is written to crash-NAME-<case> in the working directory before the process dies.
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));
extern "C" void __sanitizer_set_death_callback(void (*callback)()) __attribute__((weak));

namespace {

using Bytes = std::vector<uint8_t>;

// What the crash handlers write out: set before every input.
const Bytes *currentInput = nullptr;
char crashPath[512] = {};

void writeCurrentInput()
{
    static volatile std::sig_atomic_t written = 0;
    if (written || !currentInput || !crashPath[0])
        return;
    written = 1;
    const int fd = ::open(crashPath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0)
        return;
    const uint8_t *data = currentInput->data();
    size_t left = currentInput->size();
    while (left > 0) {
        const ssize_t n = ::write(fd, data, left);
        if (n <= 0)
            break;
        data += n;
        left -= size_t(n);
    }
    ::close(fd);
    const char note[] = "standalone fuzz driver: the input is in ";
    (void)!::write(2, note, sizeof note - 1);
    (void)!::write(2, crashPath, std::strlen(crashPath));
    (void)!::write(2, "\n", 1);
}

void onFatalSignal(int signal)
{
    writeCurrentInput();
    std::signal(signal, SIG_DFL);
    std::raise(signal);
}

Bytes readFile(const std::filesystem::path &path)
{
    std::ifstream in(path, std::ios::binary);
    return Bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// libFuzzer's dictionary format: one "word" a line (optionally name="word"), \\, \" and \xAB escapes; # comments.
std::vector<Bytes> readDictionary(const std::filesystem::path &path)
{
    std::vector<Bytes> words;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        const size_t open = line.find('"');
        const size_t close = line.rfind('"');
        if (line.empty() || line.front() == '#' || open == std::string::npos || close <= open)
            continue;
        Bytes word;
        for (size_t i = open + 1; i < close; ++i) {
            if (line[i] == '\\' && i + 1 < close) {
                if (line[i + 1] == 'x' && i + 3 < close) {
                    word.push_back(uint8_t(std::stoi(line.substr(i + 2, 2), nullptr, 16)));
                    i += 3;
                } else {
                    word.push_back(uint8_t(line[++i]));
                }
            } else {
                word.push_back(uint8_t(line[i]));
            }
        }
        if (!word.empty())
            words.push_back(word);
    }
    return words;
}

class Mutator
{
public:
    Mutator(uint64_t seed, size_t maxLength, const std::vector<Bytes> &corpus, const std::vector<Bytes> &dictionary)
        : m_random(seed)
        , m_maxLength(maxLength)
        , m_corpus(corpus)
        , m_dictionary(dictionary)
    { }

    Bytes next()
    {
        Bytes data = m_corpus.empty() ? Bytes() : m_corpus[below(m_corpus.size())];
        const size_t edits = 1 + below(8);
        for (size_t i = 0; i < edits; ++i)
            mutate(data);
        if (data.size() > m_maxLength)
            data.resize(m_maxLength);
        return data;
    }

private:
    size_t below(size_t bound) { return bound == 0 ? 0 : size_t(m_random() % bound); }

    void mutate(Bytes &data)
    {
        const size_t at = below(data.size() + 1);
        switch (below(9)) {
        case 0: // flip a bit
            if (at < data.size())
                data[at] ^= uint8_t(1u << below(8));
            break;
        case 1: // set a byte, often to a value at a boundary
        {
            static const uint8_t special[] = {0x00, 0x01, 0x7f, 0x80, 0xff, 0x20, '"', ',', '\r', '\n'};
            if (at < data.size())
                data[at] = below(2) ? uint8_t(m_random()) : special[below(sizeof special)];
            break;
        }
        case 2: // insert random bytes
        {
            const size_t count = 1 + below(8);
            for (size_t i = 0; i < count; ++i)
                data.insert(data.begin() + std::ptrdiff_t(at), uint8_t(m_random()));
            break;
        }
        case 3: // erase a range
            if (at < data.size())
                data.erase(data.begin() + std::ptrdiff_t(at),
                    data.begin() + std::ptrdiff_t(std::min(data.size(), at + 1 + below(16))));
            break;
        case 4: // duplicate a range
            if (at < data.size() && data.size() < m_maxLength) {
                const Bytes piece(data.begin() + std::ptrdiff_t(at),
                    data.begin() + std::ptrdiff_t(std::min(data.size(), at + 1 + below(64))));
                data.insert(data.begin() + std::ptrdiff_t(below(data.size() + 1)), piece.begin(), piece.end());
            }
            break;
        case 5: // splice in a piece of another corpus entry
            if (!m_corpus.empty()) {
                const Bytes &other = m_corpus[below(m_corpus.size())];
                if (!other.empty()) {
                    const size_t from = below(other.size());
                    const size_t to = std::min(other.size(), from + 1 + below(other.size() - from));
                    data.insert(data.begin() + std::ptrdiff_t(at), other.begin() + std::ptrdiff_t(from),
                        other.begin() + std::ptrdiff_t(to));
                }
            }
            break;
        case 6: // a dictionary word, inserted or written over
        case 7:
            if (!m_dictionary.empty()) {
                const Bytes &word = m_dictionary[below(m_dictionary.size())];
                if (below(2) || at + word.size() > data.size())
                    data.insert(data.begin() + std::ptrdiff_t(at), word.begin(), word.end());
                else
                    std::copy(word.begin(), word.end(), data.begin() + std::ptrdiff_t(at));
            }
            break;
        case 8: // cut the end off
            data.resize(at);
            break;
        }
    }

    std::mt19937_64 m_random;
    size_t m_maxLength;
    const std::vector<Bytes> &m_corpus;
    const std::vector<Bytes> &m_dictionary;
};

[[noreturn]] void usage(const char *program)
{
    std::fprintf(
        stderr, "usage: %s [--runs N] [--seed S] [--max-len BYTES] [--dict FILE] CORPUS_DIR_OR_FILE...\n", program);
    std::exit(2);
}

} // namespace

int main(int argc, char **argv)
{
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);

    const std::string name = std::filesystem::path(argv[0]).filename().string();
    uint64_t runs = 10000;
    uint64_t seed = 1;
    size_t maxLength = 4096;
    std::vector<Bytes> corpus;
    std::vector<Bytes> dictionary;
    for (int i = 1; i < argc; ++i) {
        const std::string arg = argv[i];
        const bool hasValue = i + 1 < argc;
        if (arg == "--runs" && hasValue)
            runs = std::strtoull(argv[++i], nullptr, 10);
        else if (arg == "--seed" && hasValue)
            seed = std::strtoull(argv[++i], nullptr, 10);
        else if (arg == "--max-len" && hasValue)
            maxLength = std::strtoull(argv[++i], nullptr, 10);
        else if (arg == "--dict" && hasValue)
            dictionary = readDictionary(argv[++i]);
        else if (arg.rfind("--", 0) == 0)
            usage(argv[0]);
        else if (std::filesystem::is_directory(arg)) {
            std::vector<std::filesystem::path> files;
            for (const auto &entry : std::filesystem::directory_iterator(arg))
                if (entry.is_regular_file())
                    files.push_back(entry.path());
            std::sort(files.begin(), files.end()); // the same order, so the same run, everywhere
            for (const auto &file : files)
                corpus.push_back(readFile(file));
        } else if (std::filesystem::is_regular_file(arg)) {
            corpus.push_back(readFile(arg));
        } else {
            std::fprintf(stderr, "%s: no such corpus: %s\n", name.c_str(), arg.c_str());
            return 2;
        }
    }

    for (const int signal : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL})
        std::signal(signal, onFatalSignal);
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(writeCurrentInput);

    const auto started = std::chrono::steady_clock::now();
    uint64_t caseNumber = 0;
    const auto runOne = [&](const Bytes &input) {
        std::snprintf(
            crashPath, sizeof crashPath, "crash-%s-%llu", name.c_str(), static_cast<unsigned long long>(caseNumber));
        currentInput = &input;
        LLVMFuzzerTestOneInput(input.data(), input.size());
        currentInput = nullptr;
        ++caseNumber;
    };
    for (const Bytes &input : corpus)
        runOne(input);
    Mutator mutator(seed, maxLength, corpus, dictionary);
    for (uint64_t i = 0; i < runs; ++i) {
        const Bytes input = mutator.next();
        runOne(input);
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::printf("%s: %llu inputs (%zu from the corpus, %llu mutated, seed %llu) in %.1f s, no finding\n", name.c_str(),
        static_cast<unsigned long long>(caseNumber), corpus.size(), static_cast<unsigned long long>(runs),
        static_cast<unsigned long long>(seed), seconds);
    return 0;
}
