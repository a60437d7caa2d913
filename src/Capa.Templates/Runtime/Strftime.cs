using System.Globalization;
using System.Text;

namespace Capa.Templates.Runtime;

/// <summary>Python's <c>strftime</c> for the directives chat templates use (C locale names).</summary>
internal static class Strftime
{
    private static readonly string[] MonthNames =
        ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"];

    private static readonly string[] DayNames = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

    public static string Format(DateTimeOffset time, string format)
    {
        var sb = new StringBuilder(format.Length + 16);
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c != '%' || i + 1 >= format.Length)
            {
                sb.Append(c);
                continue;
            }

            char directive = format[++i];
            string? text = directive switch
            {
                'Y' => time.Year.ToString(CultureInfo.InvariantCulture),
                'y' => (time.Year % 100).ToString("00", CultureInfo.InvariantCulture),
                'm' => time.Month.ToString("00", CultureInfo.InvariantCulture),
                'd' => time.Day.ToString("00", CultureInfo.InvariantCulture),
                'e' => time.Day.ToString(CultureInfo.InvariantCulture).PadLeft(2),
                'b' or 'h' => MonthNames[time.Month - 1][..3],
                'B' => MonthNames[time.Month - 1],
                'a' => DayNames[(int)time.DayOfWeek][..3],
                'A' => DayNames[(int)time.DayOfWeek],
                'w' => ((int)time.DayOfWeek).ToString(CultureInfo.InvariantCulture),
                'j' => time.DayOfYear.ToString("000", CultureInfo.InvariantCulture),
                'H' => time.Hour.ToString("00", CultureInfo.InvariantCulture),
                'I' => ((time.Hour + 11) % 12 + 1).ToString("00", CultureInfo.InvariantCulture),
                'p' => time.Hour < 12 ? "AM" : "PM",
                'M' => time.Minute.ToString("00", CultureInfo.InvariantCulture),
                'S' => time.Second.ToString("00", CultureInfo.InvariantCulture),
                '%' => "%",
                _ => null,
            };
            if (text is null)
            {
                sb.Append('%').Append(directive);
            }
            else
            {
                sb.Append(text);
            }
        }

        return sb.ToString();
    }
}
