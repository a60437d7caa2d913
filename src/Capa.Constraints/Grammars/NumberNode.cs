namespace Capa.Constraints.Grammars;

/// <summary>
/// A JSON number. Free form is RFC 8259's full grammar (json_object mode). Schema form has no exponent,
/// at most <see cref="MaxIntegerDigits"/> integer digits and <c>fractionDigits</c> fraction digits (none
/// for integers), and bounds: every prefix is admitted only if some completion lies within them, checked
/// exactly in decimal arithmetic, so generation never reaches a dead end and every value fits a double.
/// </summary>
internal sealed class NumberNode : Node
{
    public const int MaxIntegerDigits = 15;

    private const int Start = 0;
    private const int Minus = 1;
    private const int Zero = 2;
    private const int IntDigits = 3;
    private const int Dot = 4;
    private const int FracDigits = 5;
    private const int Exp = 6;
    private const int ExpSign = 7;
    private const int ExpDigits = 8;

    private readonly bool _free;
    private readonly int _fractionDigits;
    private readonly decimal? _lo;
    private readonly decimal? _hi;
    private readonly bool _loExclusive;
    private readonly bool _hiExclusive;
    private readonly decimal _step;

    private NumberNode(bool free, int fractionDigits, decimal? lo, bool loExclusive, decimal? hi, bool hiExclusive)
    {
        _free = free;
        _fractionDigits = fractionDigits;
        _lo = lo;
        _hi = hi;
        _loExclusive = loExclusive;
        _hiExclusive = hiExclusive;
        _step = Pow10(-fractionDigits);
    }

    public static NumberNode Free() => new(true, 0, null, false, null, false);

    public static NumberNode Bounded(bool integer, decimal? lo, bool loExclusive, decimal? hi, bool hiExclusive, int fractionDigits = 6) =>
        new(false, integer ? 0 : fractionDigits, lo, loExclusive, hi, hiExclusive);

    /// <summary>Whether some number of this form lies within the bounds.</summary>
    public bool IsSatisfiable => _free || Reachable(new NumberFrame(this, Minus, true, 0, 0)) || Reachable(new NumberFrame(this, IntDigits, false, 0, 0)) || Reachable(new NumberFrame(this, Zero, false, 0, 0));

    private static decimal Pow10(int e)
    {
        decimal r = 1m;
        for (int i = 0; i < Math.Abs(e); i++)
        {
            r = e > 0 ? r * 10m : r / 10m;
        }

        return r;
    }

    public override bool IsCacheable(Frame frame) => _free || (_lo is null && _hi is null);

    public override Frame Initial(Frame? parent) => new NumberFrame(this, Start, false, 0, 0) { Parent = parent };

    public override bool CanEndHere(Frame frame)
    {
        var f = (NumberFrame)frame;
        bool syntax = f.Phase is Zero or IntDigits or FracDigits or ExpDigits;
        return syntax && (_free || InBounds(f.Negative ? -f.Magnitude : f.Magnitude));
    }

    public override void Step(Frame frame, byte b, StepSink sink)
    {
        var f = (NumberFrame)frame;
        bool digit = b is >= (byte)'0' and <= (byte)'9';
        int d = b - '0';
        NumberFrame? next = null;
        switch (f.Phase)
        {
            case Start:
                if (b == '-')
                {
                    next = f with { Phase = Minus, Negative = true };
                }
                else if (b == '0')
                {
                    next = f with { Phase = Zero };
                }
                else if (digit)
                {
                    next = f with { Phase = IntDigits, Magnitude = d, Digits = 1 };
                }

                break;
            case Minus:
                if (b == '0')
                {
                    next = f with { Phase = Zero };
                }
                else if (digit)
                {
                    next = f with { Phase = IntDigits, Magnitude = d, Digits = 1 };
                }

                break;
            case Zero or IntDigits:
                if (digit && f.Phase == IntDigits)
                {
                    next = _free ? f : f.Digits < MaxIntegerDigits ? f with { Magnitude = (f.Magnitude * 10) + d, Digits = f.Digits + 1 } : null;
                }
                else if (b == '.' && (_free || _fractionDigits > 0))
                {
                    next = f with { Phase = Dot, Digits = 0 };
                }
                else if ((b == 'e' || b == 'E') && _free)
                {
                    next = f with { Phase = Exp };
                }
                else if (!digit && CanEndHere(f))
                {
                    sink.Done(f, b, consumed: false);
                    return;
                }

                break;
            case Dot or FracDigits:
                if (digit)
                {
                    next = _free ? f with { Phase = FracDigits }
                        : f.Digits < _fractionDigits ? f with { Phase = FracDigits, Magnitude = f.Magnitude + (d * Pow10(-(f.Digits + 1))), Digits = f.Digits + 1 }
                        : null;
                }
                else if (f.Phase == FracDigits && (b == 'e' || b == 'E') && _free)
                {
                    next = f with { Phase = Exp };
                }
                else if (f.Phase == FracDigits && CanEndHere(f))
                {
                    sink.Done(f, b, consumed: false);
                    return;
                }

                break;
            case Exp:
                if (b == '+' || b == '-')
                {
                    next = f with { Phase = ExpSign };
                }
                else if (digit)
                {
                    next = f with { Phase = ExpDigits };
                }

                break;
            case ExpSign:
                if (digit)
                {
                    next = f with { Phase = ExpDigits };
                }

                break;
            case ExpDigits:
                if (digit)
                {
                    next = f;
                }
                else
                {
                    sink.Done(f, b, consumed: false);
                    return;
                }

                break;
        }

        if (next is not null && (_free || Reachable(next)))
        {
            sink.Emit(next);
        }
    }

    private bool InBounds(decimal v) =>
        (_lo is not decimal lo || (_loExclusive ? v > lo : v >= lo)) &&
        (_hi is not decimal hi || (_hiExclusive ? v < hi : v <= hi));

    /// <summary>Whether some complete number extending the frame's prefix lies within the bounds.</summary>
    private bool Reachable(NumberFrame f)
    {
        if (_lo is null && _hi is null)
        {
            return true;
        }

        decimal top = Pow10(MaxIntegerDigits) - _step;
        switch (f.Phase)
        {
            case Minus:
                return Intersects(0, top, true);
            case Zero:
                return Intersects(0, 1 - _step, f.Negative);
            case IntDigits:
                {
                    decimal scale = 1;
                    for (int k = 0; f.Digits + k <= MaxIntegerDigits; k++)
                    {
                        if (Intersects(f.Magnitude * scale, ((f.Magnitude + 1) * scale) - _step, f.Negative))
                        {
                            return true;
                        }

                        scale *= 10;
                    }

                    return false;
                }

            case Dot:
                return Intersects(f.Magnitude, f.Magnitude + 1 - _step, f.Negative);
            case FracDigits:
                return Intersects(f.Magnitude, f.Magnitude + Pow10(-f.Digits) - _step, f.Negative);
            default:
                return true;
        }
    }

    /// <summary>Whether a grid value in [a, b] (negated when <paramref name="negative"/>) lies within the bounds.</summary>
    private bool Intersects(decimal a, decimal b, bool negative)
    {
        if (negative)
        {
            (a, b) = (-b, -a);
        }

        decimal low = a;
        decimal high = b;
        if (_lo is decimal lo)
        {
            decimal g = Math.Ceiling(lo / _step) * _step;
            if (_loExclusive && g == lo)
            {
                g += _step;
            }

            low = Math.Max(low, g);
        }

        if (_hi is decimal hi)
        {
            decimal g = Math.Floor(hi / _step) * _step;
            if (_hiExclusive && g == hi)
            {
                g -= _step;
            }

            high = Math.Min(high, g);
        }

        return low <= high;
    }
}

/// <summary><see cref="Magnitude"/> is the absolute value read so far (schema form only); <see cref="Digits"/> counts the current part's digits.</summary>
internal sealed record NumberFrame(NumberNode Owner, int Phase, bool Negative, decimal Magnitude, int Digits) : Frame
{
    public override Node Node => Owner;
}
