using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Rehome.Server.Hosting;

/// <summary>
/// Every options class of the server is bound through here: checked by its DataAnnotations (and any
/// <see cref="IValidateOptions{TOptions}"/> of its own) when the server starts, so that a bad value stops the start
/// with the setting's full name (<c>Rehome:Gateway:RecheckInterval</c>) instead of surfacing later, or never.
/// </summary>
public static class Settings
{
    public static OptionsBuilder<T> AddSettings<T>(this IServiceCollection services, IConfiguration configuration, string section)
        where T : class
    {
        services.AddSingleton<IValidateOptions<T>>(new AnnotatedSettings<T>(section));
        return services.AddOptions<T>().Bind(configuration.GetSection(section)).ValidateOnStart();
    }

    /// <summary>DataAnnotations, reported with the setting's name as it is configured (section and property).</summary>
    private sealed class AnnotatedSettings<T>(string section) : IValidateOptions<T>
        where T : class
    {
        public ValidateOptionsResult Validate(string? name, T options)
        {
            var results = new List<ValidationResult>();
            if (Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
            {
                return ValidateOptionsResult.Success;
            }
            return ValidateOptionsResult.Fail(results.Select(r =>
                $"{string.Join(", ", r.MemberNames.Select(m => $"{section}:{m}").DefaultIfEmpty(section))}: {r.ErrorMessage}"));
        }
    }
}
