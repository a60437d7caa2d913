using System.Globalization;
using System.Text;
using Capa.Templates.Runtime;

namespace Capa.Templates.Syntax;

/// <summary>
/// Splits preprocessed template text into tokens. Whitespace control (<c>{%-</c>, <c>-%}</c>, <c>{{-</c>, <c>-}}</c>,
/// <c>{#-</c>, <c>-#}</c>) is applied here, and the token rules follow @huggingface/jinja so that both agree on
/// every template.
/// </summary>
internal sealed class Lexer
{
    private static readonly (string Sequence, TokenType Type)[] Table =
    [
        ("{%", TokenType.OpenStatement),
        ("%}", TokenType.CloseStatement),
        ("{{", TokenType.OpenExpression),
        ("}}", TokenType.CloseExpression),
        ("(", TokenType.OpenParen),
        (")", TokenType.CloseParen),
        ("{", TokenType.OpenCurlyBracket),
        ("}", TokenType.CloseCurlyBracket),
        ("[", TokenType.OpenSquareBracket),
        ("]", TokenType.CloseSquareBracket),
        (",", TokenType.Comma),
        (".", TokenType.Dot),
        (":", TokenType.Colon),
        ("|", TokenType.Pipe),
        ("<=", TokenType.ComparisonBinaryOperator),
        (">=", TokenType.ComparisonBinaryOperator),
        ("==", TokenType.ComparisonBinaryOperator),
        ("!=", TokenType.ComparisonBinaryOperator),
        ("<", TokenType.ComparisonBinaryOperator),
        (">", TokenType.ComparisonBinaryOperator),
        ("+", TokenType.AdditiveBinaryOperator),
        ("-", TokenType.AdditiveBinaryOperator),
        ("~", TokenType.AdditiveBinaryOperator),
        ("**", TokenType.ExponentiationBinaryOperator),
        ("*", TokenType.MultiplicativeBinaryOperator),
        ("//", TokenType.MultiplicativeBinaryOperator),
        ("/", TokenType.MultiplicativeBinaryOperator),
        ("%", TokenType.MultiplicativeBinaryOperator),
        ("=", TokenType.Equals),
    ];

    private readonly string _src;
    private readonly SourceMap _map;
    private readonly List<Token> _tokens = [];
    private int _pos;
    private int _curlyDepth;

    private Lexer(string src, SourceMap map)
    {
        _src = src;
        _map = map;
    }

    public static List<Token> Tokenize(string preprocessed, SourceMap map)
    {
        var lexer = new Lexer(preprocessed, map);
        lexer.Run();
        return lexer._tokens;
    }

    private TemplateException Error(string message, int offset) => _map.Error(TemplateErrorKind.Syntax, message, offset);

    private char At(int index) => index < _src.Length ? _src[index] : '\0';

    private bool StartsWith(string s) => _pos + s.Length <= _src.Length && string.CompareOrdinal(_src, _pos, s, 0, s.Length) == 0;

    private void Run()
    {
        while (_pos < _src.Length)
        {
            TokenType? last = _tokens.Count > 0 ? _tokens[^1].Type : null;
            if (last is null or TokenType.CloseStatement or TokenType.CloseExpression or TokenType.Comment)
            {
                int start = _pos;
                while (_pos < _src.Length && !(_src[_pos] == '{' && At(_pos + 1) is '%' or '{' or '#'))
                {
                    _pos++;
                }

                if (_pos > start)
                {
                    _tokens.Add(new Token(TokenType.Text, _src[start.._pos], start));
                    continue;
                }
            }

            if (_src[_pos] == '{' && At(_pos + 1) == '#')
            {
                LexComment();
                continue;
            }

            if (StartsWith("{%-"))
            {
                StripTrailingWhitespace();
                _tokens.Add(new Token(TokenType.OpenStatement, "{%", _pos));
                _pos += 3;
                continue;
            }

            if (StartsWith("{{-"))
            {
                StripTrailingWhitespace();
                _tokens.Add(new Token(TokenType.OpenExpression, "{{", _pos));
                _curlyDepth = 0;
                _pos += 3;
                continue;
            }

            SkipWhitespaceInsideTag();
            if (_pos >= _src.Length)
            {
                throw Error("Unexpected end of template inside a tag", _src.Length);
            }

            if (StartsWith("-%}"))
            {
                _tokens.Add(new Token(TokenType.CloseStatement, "%}", _pos));
                _pos += 3;
                SkipLeadingWhitespace();
                continue;
            }

            if (StartsWith("-}}"))
            {
                _tokens.Add(new Token(TokenType.CloseExpression, "}}", _pos));
                _pos += 3;
                SkipLeadingWhitespace();
                continue;
            }

            char c = _src[_pos];
            if (c is '-' or '+' && LexSign(c))
            {
                continue;
            }

            if (LexFromTable())
            {
                continue;
            }

            if (c is '\'' or '"')
            {
                int start = _pos;
                _pos++;
                string value = ReadString(c, start);
                _tokens.Add(new Token(TokenType.StringLiteral, value, start));
                continue;
            }

            if (IsDigit(c))
            {
                int start = _pos;
                string number = ReadDigits();
                // After a dot this is an index ("a.0.1"), so a fraction is not read.
                if ((_tokens.Count == 0 || _tokens[^1].Type != TokenType.Dot) && At(_pos) == '.' && IsDigit(At(_pos + 1)))
                {
                    _pos++;
                    number = number + "." + ReadDigits();
                }

                _tokens.Add(new Token(TokenType.NumericLiteral, number, start));
                continue;
            }

            if (IsWord(c))
            {
                int start = _pos;
                while (_pos < _src.Length && IsWord(_src[_pos]))
                {
                    _pos++;
                }

                _tokens.Add(new Token(TokenType.Identifier, _src[start.._pos], start));
                continue;
            }

            throw Error($"Unexpected character '{c}'", _pos);
        }
    }

    private void LexComment()
    {
        int start = _pos;
        _pos += 2;
        bool stripBefore = At(_pos) == '-';
        if (stripBefore)
        {
            _pos++;
        }

        int bodyStart = _pos;
        int end = _src.IndexOf("#}", _pos, StringComparison.Ordinal);
        if (end < 0)
        {
            throw Error("Missing end of comment tag '#}'", start);
        }

        string comment = _src[bodyStart..end];
        bool stripAfter = comment.EndsWith('-');
        if (stripAfter)
        {
            comment = comment[..^1];
        }

        if (stripBefore)
        {
            StripTrailingWhitespace();
        }

        _tokens.Add(new Token(TokenType.Comment, comment, start));
        _pos = end + 2;
        if (stripAfter)
        {
            SkipLeadingWhitespace();
        }
    }

    /// <summary>A '-' or '+' is a binary operator after an operand, otherwise a sign (folded into a number literal).</summary>
    private bool LexSign(char c)
    {
        TokenType? last = _tokens.Count > 0 ? _tokens[^1].Type : null;
        if (last is null or TokenType.Text)
        {
            throw Error($"Unexpected character '{c}'", _pos);
        }

        if (last is TokenType.Identifier or TokenType.NumericLiteral or TokenType.StringLiteral
            or TokenType.CloseParen or TokenType.CloseSquareBracket)
        {
            return false;
        }

        int start = _pos;
        _pos++;
        string number = ReadDigits();
        if (number.Length > 0 && At(_pos) == '.' && IsDigit(At(_pos + 1)))
        {
            _pos++;
            number = number + "." + ReadDigits();
        }

        _tokens.Add(number.Length > 0
            ? new Token(TokenType.NumericLiteral, c + number, start)
            : new Token(TokenType.UnaryOperator, c.ToString(), start));
        return true;
    }

    private bool LexFromTable()
    {
        foreach ((string sequence, TokenType type) in Table)
        {
            if (type == TokenType.CloseExpression && _curlyDepth > 0)
            {
                continue;
            }

            if (!StartsWith(sequence))
            {
                continue;
            }

            _tokens.Add(new Token(type, sequence, _pos));
            if (type == TokenType.OpenExpression)
            {
                _curlyDepth = 0;
            }
            else if (type == TokenType.OpenCurlyBracket)
            {
                _curlyDepth++;
            }
            else if (type == TokenType.CloseCurlyBracket)
            {
                _curlyDepth--;
            }

            _pos += sequence.Length;
            return true;
        }

        return false;
    }

    private string ReadString(char quote, int start)
    {
        var value = new StringBuilder();
        while (true)
        {
            if (_pos >= _src.Length)
            {
                throw Error("Unterminated string literal", start);
            }

            char c = _src[_pos];
            if (c == quote)
            {
                _pos++;
                return value.ToString();
            }

            if (c != '\\')
            {
                value.Append(c);
                _pos++;
                continue;
            }

            _pos++;
            if (_pos >= _src.Length)
            {
                throw Error("Unterminated string literal", start);
            }

            char escaped = _src[_pos++];
            if (escaped is 'x' or 'u')
            {
                int digits = escaped == 'x' ? 2 : 4;
                string hex = _pos + digits <= _src.Length ? _src.Substring(_pos, digits) : _src[_pos..];
                if (hex.Length != digits || !int.TryParse(hex, NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int code))
                {
                    throw Error($"Invalid hexadecimal escape sequence '\\{escaped}{hex}'", _pos - 2);
                }

                value.Append((char)code);
                _pos += digits;
                continue;
            }

            value.Append(escaped switch
            {
                'n' => '\n',
                't' => '\t',
                'r' => '\r',
                'b' => '\b',
                'f' => '\f',
                'v' => '\v',
                '\'' => '\'',
                '"' => '"',
                '\\' => '\\',
                _ => throw Error($"Unexpected escaped character '\\{escaped}'", _pos - 2),
            });
        }
    }

    private string ReadDigits()
    {
        int start = _pos;
        while (_pos < _src.Length && IsDigit(_src[_pos]))
        {
            _pos++;
        }

        return _src[start.._pos];
    }

    private void StripTrailingWhitespace()
    {
        if (_tokens.Count > 0 && _tokens[^1].Type == TokenType.Text)
        {
            Token last = _tokens[^1];
            last.Value = TextRules.TrimEnd(last.Value);
            if (last.Value.Length == 0)
            {
                _tokens.RemoveAt(_tokens.Count - 1);
            }
        }
    }

    private void SkipLeadingWhitespace()
    {
        while (_pos < _src.Length && TextRules.IsWhitespace(_src[_pos]))
        {
            _pos++;
        }
    }

    private void SkipWhitespaceInsideTag() => SkipLeadingWhitespace();

    private static bool IsDigit(char c) => c is >= '0' and <= '9';

    private static bool IsWord(char c) => c is (>= 'a' and <= 'z') or (>= 'A' and <= 'Z') or (>= '0' and <= '9') or '_';
}
