package listener.analysis;

import org.apache.lucene.analysis.StopFilter;
import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.es.SpanishAnalyzer;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;

/** Drops Spanish stop words, the default set of Lucene's SpanishAnalyzer. Expects lowercase tokens. */
@NamedComponent("listener_stop_es")
public final class SpanishStopFactory implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream input) {
        return new StopFilter(input, SpanishAnalyzer.getDefaultStopSet());
    }
}
